using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Hubs;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>The hub's Origin rules: an allow-list when configured, else the same host only; no Origin always passes.</summary>
public sealed class HubOriginsTests
{
    [Theory]
    [InlineData(null, "rooms.example.com", true)]
    [InlineData("https://rooms.example.com", "rooms.example.com", true)]
    [InlineData("http://localhost:8080", "localhost", true)]
    [InlineData("http://127.0.0.1:5123", "127.0.0.1:5123", true)]
    [InlineData("https://ROOMS.example.com", "rooms.example.com:443", true)]
    [InlineData("https://evil.example", "rooms.example.com", false)]
    [InlineData("https://rooms.example.com.evil.example", "rooms.example.com", false)]
    [InlineData("null", "rooms.example.com", false)]
    [InlineData("", "rooms.example.com", false)]
    [InlineData("http://[::1]:8080", "[::1]:8080", true)]
    [InlineData("http://[2001:db8::1]", "[2001:db8::1]", true)]
    [InlineData("http://[2001:db8::2]", "[2001:db8::1]", false)]
    public void WithoutAListOnlyTheSameHostIsAllowed(string? origin, string host, bool allowed) =>
        new HubOrigins([]).Allows(origin, host).Should().Be(allowed);

    [Theory]
    [InlineData(null, true)]
    [InlineData("https://menu.example.com", true)]
    [InlineData("https://menu.example.com/", true)]
    [InlineData("https://MENU.example.com:443", true)]
    [InlineData("http://localhost:3000", true)]
    [InlineData("http://menu.example.com", false)]
    [InlineData("https://menu.example.com:8443", false)]
    [InlineData("http://localhost:3001", false)]
    [InlineData("https://rooms.example.com", false)]
    [InlineData("null", false)]
    public void WithAListOnlyItsOriginsAreAllowedNotEvenTheSameHost(string? origin, bool allowed) =>
        new HubOrigins(["https://menu.example.com", "http://localhost:3000"]).Allows(origin, "rooms.example.com").Should().Be(allowed);

    [Theory]
    [InlineData("https://menu.example.com", true)]
    [InlineData("https://MENU.example.com:443", true)]
    [InlineData("https://rooms.example.com", false)]
    [InlineData("null", false)]
    public void OnlyListedOriginsAreAllowedAcrossOrigins(string origin, bool listed)
    {
        new HubOrigins(["https://menu.example.com"]).IsListed(origin).Should().Be(listed);
        new HubOrigins([]).IsListed(origin).Should().BeFalse("with no list nothing is allowed across origins");
    }

    [Fact]
    public void AStarAllowsEveryOrigin() =>
        new HubOrigins(["*"]).Allows("https://anywhere.example", "rooms.example.com").Should().BeTrue();

    [Theory]
    [InlineData("https://menu.example.com/app")]
    [InlineData("menu.example.com")]
    [InlineData("ftp://menu.example.com")]
    [InlineData("https://user@menu.example.com")]
    public void AnEntryThatIsNotAnOriginStopsTheStart(string entry) =>
        new AllowedOriginsValidator().Validate(null, new RoomServerOptions { AllowedOrigins = [entry] }).Failed.Should().BeTrue();

    [Fact]
    public void OriginsAndAStarPassValidation() =>
        new AllowedOriginsValidator().Validate(null, new RoomServerOptions { AllowedOrigins = ["*", "https://a.example:8443", "http://localhost:3000/"] })
            .Succeeded.Should().BeTrue();
}
