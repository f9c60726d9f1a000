using Microsoft.Extensions.Configuration;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>The Development banner shows the API key generated for the run, never a configured one (DESIGN §9: no key in logs).</summary>
public sealed class StartupBannerKeyTests
{
    [Fact]
    public void AGeneratedKeyIsShownAndAConfiguredOneIsNot()
    {
        var options = new RoomServerOptions { ApiKeys = ["the-key"] };
        var generated = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [DevelopmentSecrets.GeneratedApiKeyMarker] = "the-key" }).Build();
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["RoomServer:ApiKeys:0"] = "the-key" }).Build();
        var otherGenerated = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [DevelopmentSecrets.GeneratedApiKeyMarker] = "true" }).Build();

        StartupBanner.ShownApiKey(generated, options).Should().Be("the-key");
        StartupBanner.ShownApiKey(configured, options).Should().BeNull("a configured key may be a real one, and console output can reach a log");
        StartupBanner.ShownApiKey(otherGenerated, options).Should().BeNull("the marker vouches for one key, the one generated");
    }
}
