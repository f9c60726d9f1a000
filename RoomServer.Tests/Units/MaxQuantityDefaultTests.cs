using System.Text.RegularExpressions;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// DESIGN §3 "Default <c>MaxQuantity</c> is 99": a client assumes the default when a snapshot lacks
/// <c>maxQuantity</c> (an older replica), and the web client's fallback is 99, so a changed server default
/// would diverge from it silently (the contract suite runs with 90, not the default).
/// </summary>
public sealed partial class MaxQuantityDefaultTests
{
    public const int DesignDefault = 99;

    [Fact]
    public void TheServersDefaultMaxQuantityIs99()
    {
        new RoomServerOptions().MaxQuantity.Should().Be(DesignDefault, "DESIGN §3 states the default, and clients fall back to it");
    }

    [Fact]
    public void TheWebClientFallsBackToTheServersDefault()
    {
        var errors = File.ReadAllText(Path.Combine(RepoPaths.RoomServerProjectDir, "ClientApp", "src", "js", "errors.js"));

        var fallback = DefaultMaxQuantity().Match(errors);

        fallback.Success.Should().BeTrue("errors.js exports the web client's fallback as DEFAULT_MAX_QUANTITY");
        int.Parse(fallback.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            .Should().Be(new RoomServerOptions().MaxQuantity, "the web client assumes the server's default when a snapshot lacks maxQuantity");
    }

    [GeneratedRegex(@"export\s+const\s+DEFAULT_MAX_QUANTITY\s*=\s*(\d+)\s*;")]
    private static partial Regex DefaultMaxQuantity();
}
