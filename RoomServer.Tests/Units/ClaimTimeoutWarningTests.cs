using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// An order record's claim shorter than three store deadlines can lapse while its replica still delivers it (the
/// confirmation and the first renewal may each take a whole deadline): the replica starts, and warns at start-up.
/// </summary>
public sealed class ClaimTimeoutWarningTests
{
    [Theory]
    [InlineData(30, 2000, true)]
    [InlineData(6, 2000, true)]
    [InlineData(5, 2000, false)]
    [InlineData(3, 2000, false)]
    [InlineData(1, 333, true)]
    [InlineData(1, 334, false)]
    [InlineData(3600, 60_000, true)]
    public void AClaimMustLastThreeStoreDeadlines(int claimTimeoutSeconds, int storeTimeoutMilliseconds, bool outlasts) =>
        WebhookOptions.ClaimOutlastsStoreCalls(claimTimeoutSeconds, storeTimeoutMilliseconds).Should().Be(outlasts);

    [Fact]
    public async Task AShortClaimInRedisModeWithEndpointsIsWarnedOfNamingBothSettings()
    {
        var warnings = await StartupWarningsAsync(redis: true, endpoints: 1, claimTimeoutSeconds: 3, storeTimeoutMilliseconds: 2000);

        warnings.Should().ContainSingle().Which.Should()
            .Contain("RoomServer__Webhooks__ClaimTimeoutSeconds is 3 s")
            .And.Contain("2000 ms each, RoomServer__StoreTimeoutMilliseconds")
            .And.Contain("Set it to 6 or more");
    }

    [Theory]
    [InlineData(false, 1, 3, "embedded mode holds its claims in memory")]
    [InlineData(true, 0, 3, "no endpoint, no record to deliver")]
    [InlineData(true, 1, 6, "three deadlines exactly")]
    [InlineData(true, 1, 30, "the default")]
    public async Task NoWarningWhereTheClaimCannotLapseMidDelivery(bool redis, int endpoints, int claimTimeoutSeconds, string because)
    {
        var warnings = await StartupWarningsAsync(redis, endpoints, claimTimeoutSeconds, storeTimeoutMilliseconds: 2000);

        warnings.Should().BeEmpty(because);
    }

    private static async Task<IReadOnlyList<string>> StartupWarningsAsync(bool redis, int endpoints, int claimTimeoutSeconds, int storeTimeoutMilliseconds)
    {
        var options = new RoomServerOptions
        {
            ReplicaId = "r1",
            StoreTimeoutMilliseconds = storeTimeoutMilliseconds,
            Webhooks = new WebhookOptions
            {
                ClaimTimeoutSeconds = claimTimeoutSeconds,
                Endpoints = [.. Enumerable.Range(0, endpoints).Select(i => new WebhookEndpoint { Url = $"http://127.0.0.1:9/{i}", Secret = new string('s', 32) })],
            },
        };
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(redis ? new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = "127.0.0.1:6379" } : [])
            .Build();
        var logger = new FakeLogger<StartupLog>();

        await new StartupLog(Options.Create(options), configuration, logger).StartAsync(CancellationToken.None);

        logger.Collector.GetSnapshot().Should().Contain(r => r.Id.Id == 4001, "the mode line is always written");
        return [.. logger.Collector.GetSnapshot().Where(r => r.Id.Id == 4002 && r.Level == LogLevel.Warning).Select(r => r.Message)];
    }
}
