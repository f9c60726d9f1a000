using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The API's token bucket is refilled once a second and never holds more than ApiRequestBurst: a burst below
/// ApiRequestsPerSecond would silently be the real rate (while a 429 names the configured one), so it refuses to start.
/// </summary>
public sealed class ApiRequestBurstOptionsTests
{
    private static RoomServerOptions Options(int perSecond, int burst) => new()
    {
        ApiKeys = ["0123456789abcdef"],
        Jwt = { SigningKey = new string('k', 32) },
        ReplicaId = "r1",
        Limits = { ApiRequestsPerSecond = perSecond, ApiRequestBurst = burst },
    };

    [Fact]
    public void ABurstBelowTheRateIsRefusedNamingBothSettings()
    {
        var result = new RoomServerOptionsValidator().Validate(null, Options(perSecond: 1000, burst: 999));

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("RoomServer:Limits:ApiRequestBurst must be at least RoomServer:Limits:ApiRequestsPerSecond")
            .And.Contain("RoomServer__Limits__ApiRequestBurst")
            .And.Contain("RoomServer__Limits__ApiRequestsPerSecond");
    }

    [Fact]
    public void ABurstAsLargeAsTheRateAndTheDefaultsAreAccepted()
    {
        new RoomServerOptionsValidator().Validate(null, Options(perSecond: 1000, burst: 1000)).Succeeded.Should().BeTrue();
        var defaults = new LimitOptions();
        new RoomServerOptionsValidator().Validate(null, Options(defaults.ApiRequestsPerSecond, defaults.ApiRequestBurst)).Succeeded
            .Should().BeTrue("the defaults (README's Limits table: 1 000 / 2 000) are valid together");
    }
}
