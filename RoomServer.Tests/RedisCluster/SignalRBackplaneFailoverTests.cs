using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// The master holding SignalR's <c>all</c> channel killed (<c>kill -9</c>) and its replica promoted. The channel is a
/// shard channel subscribed on its master only, so every replica must subscribe it again on the promoted one — though
/// SignalR's multiplexer sends no command that a MOVED would answer (the library learns of the promotion from the lost
/// connection: within 3 s here, and asking it to re-read the cluster with the rooms' connection gained nothing).
/// A fixture of its own: a master is gone for good.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class SignalRBackplaneFailoverTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    private static readonly TimeSpan ResubscribedTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WhenTheMasterOfSignalRsAllChannelDiesEveryReplicaSubscribesItOnThePromotedOneAndAnnouncementsArriveOnce()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            await PubSubLossTests.JoinOnEveryReplicaAsync(cluster, room, "k", members);

            var victim = await cluster.Redis.MasterOfAsync(PubSubLossTests.SignalRAll);
            var heir = await cluster.Redis.ReplicaOfAsync(victim.Port);
            (await victim.ShardSubscribersAsync(PubSubLossTests.SignalRAll)).Should().Be(cluster.Replicas.Count, $"every replica subscribes the all channel on its master {victim}");

            victim.Kill();
            await RedisClusterProcess.TakeOverAsync(heir, TimeSpan.FromSeconds(30));

            var subscribed = await Poll.UntilSettledAsync(() => heir.ShardSubscribersAsync(PubSubLossTests.SignalRAll), n => n == cluster.Replicas.Count, ResubscribedTimeout);
            subscribed.Should().Be(cluster.Replicas.Count, $"every replica subscribes the all channel again on the promoted master {heir}");
            await PubSubLossTests.ShouldTellEveryMemberOnceAsync(cluster, members, "after a master died");
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }
}
