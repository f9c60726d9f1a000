using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// SignalR connects its backplane as the hub is mapped, before the replica's own Redis connection has learnt whether
/// channels are sharded: it waits for that, and subscribes at start — not at the first client's connect, which would
/// carry the cost (and a first failed attempt an Error in the log). A fixture of its own, where no client ever connects.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class SignalRBackplaneStartTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    private static readonly string SignalRAll = PubSubLossTests.SignalRAll;

    [Fact]
    public async Task EveryReplicaSubscribesSignalRsAllChannelAsAShardChannelAtStartWithNoClientConnected()
    {
        var subscribed = await Poll.UntilSettledAsync(
            () => cluster.Redis.ShardSubscribersAsync(SignalRAll), total => total == cluster.Replicas.Count, TimeSpan.FromSeconds(30));

        subscribed.Should().Be(cluster.Replicas.Count, $"each of the {cluster.Replicas.Count} replicas subscribes {SignalRAll} once, at start");
    }
}
