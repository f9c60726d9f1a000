using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// Two replicas in one process on one cluster, as the suite runs its in-process servers: each waits for its own
/// connection's topology and subscribes SignalR's <c>all</c> channel at start, with no client connected. The wait was
/// once the process's (a static flag): every server after the first failed its backplane connect at start and made its
/// multiplexer only at its first client's connect.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class InProcessBackplaneStartTests(RedisClusterContractServer first) : IClassFixture<RedisClusterContractServer>
{
    [Fact]
    public async Task ASecondReplicaInTheSameProcessSubscribesSignalRsAllChannelAtStartToo()
    {
        await using var second = new SecondServer(first.Cluster);
        await second.InitializeAsync();

        var subscribed = await Poll.UntilSettledAsync(() => first.Cluster.ShardSubscribersAsync(PubSubLossTests.SignalRAll), total => total == 2, TimeSpan.FromSeconds(30));
        subscribed.Should().Be(2, "each of the two in-process replicas subscribes it once, at start, with no client connected");

        await Task.Delay(TimeSpan.FromSeconds(1));
        (await first.Cluster.ShardSubscribersAsync(PubSubLossTests.SignalRAll)).Should().Be(2, "and once only: no late retry adds a third");
    }

    /// <summary>
    /// /readyz while one of SignalR's once-only channels is not subscribed: not ready, naming the channel and why; ready
    /// again once it is made. What keeps the waits (the sharding subscriber's attempts) is in Units/ShardedSubscriberTests;
    /// this is the replica's readiness reading them.
    /// </summary>
    [Fact]
    public async Task AReplicaWhoseSignalRAllChannelIsNotSubscribedYetIsNotReadyUntilItIs()
    {
        var bound = TimeSpan.FromSeconds(30);
        await Readiness.UntilAsync(first.Anonymous, HttpStatusCode.OK, bound); // the replica starts ready
        var waits = first.Services.GetRequiredService<SignalRChannelWaits>();

        waits.Waiting(PubSubLossTests.SignalRAll, "RedisTimeoutException: Timeout awaiting response");
        try
        {
            var reason = await Readiness.UntilAsync(first.Anonymous, HttpStatusCode.ServiceUnavailable, bound, r => r?.Contains("SignalR", StringComparison.Ordinal) == true);
            reason.Should().Contain(PubSubLossTests.SignalRAll).And.Contain("Timeout awaiting response").And.Contain("announcements");
        }
        finally
        {
            waits.Made(PubSubLossTests.SignalRAll);
        }

        await Readiness.UntilAsync(first.Anonymous, HttpStatusCode.OK, bound); // ready again once the channel is made
    }

    /// <summary>Another in-process replica on the fixture's cluster, which it leaves running.</summary>
    private sealed class SecondServer(RedisClusterProcess cluster) : ContractServer, IAsyncDisposable
    {
        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>
            {
                ["ConnectionStrings:Redis"] = cluster.ConnectionString,
                ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
                ["RoomServer:ReplicaId"] = ReplicaId + "-second", // one id is one live replica (DESIGN.md §8)
            });

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}
