using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// An order record's claim shorter than three store deadlines can lapse while its replica still delivers it (the claim
/// and the record's read before its first renewal, and the renewal itself, may each take a whole deadline): the replica
/// starts, and warns at start-up.
/// </summary>
public sealed class ClaimTimeoutWarningTests
{
    [Theory]
    [InlineData(30, 2000, true)]
    [InlineData(6, 2000, true)]
    [InlineData(5, 2000, false)]
    [InlineData(1, 333, true)]
    [InlineData(1, 334, false)]
    [InlineData(7, 2100, true)]
    [InlineData(6, 2100, false)]
    [InlineData(3600, 60_000, true)]
    public void AClaimMustLastThreeStoreDeadlines(int claimTimeoutSeconds, int storeTimeoutMilliseconds, bool outlasts) =>
        WebhookOptions.ClaimOutlastsStoreCalls(claimTimeoutSeconds, storeTimeoutMilliseconds).Should().Be(outlasts);

    [Theory]
    [InlineData(3, 2000, 6)]
    [InlineData(6, 2100, 7)]
    public async Task AShortClaimInRedisModeWithEndpointsIsWarnedOfNamingBothSettingsAndTheLeastClaim(int claimTimeoutSeconds, int storeTimeoutMilliseconds, int least)
    {
        var warnings = await StartupWarningsAsync(redis: true, endpoints: 1, claimTimeoutSeconds, storeTimeoutMilliseconds);

        warnings.Should().ContainSingle().Which.Should()
            .Contain($"RoomServer__Webhooks__ClaimTimeoutSeconds is {claimTimeoutSeconds} s")
            .And.Contain($"RoomServer__StoreTimeoutMilliseconds is {storeTimeoutMilliseconds} ms")
            .And.Contain($"Set it to {least} or more");
    }

    [Theory]
    [InlineData(false, 1, 3, "embedded mode is one replica holding its claims in memory")]
    [InlineData(true, 0, 3, "without endpoints nothing is sent, so nothing is sent twice")]
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
