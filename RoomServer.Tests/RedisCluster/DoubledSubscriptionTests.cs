using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// A shard channel subscribed on two nodes of its shard over one replica's connection, the client library tracking only
/// one: what the library's race after a failover leaves (RedisConnection.UnsubscribeEverywhereAsync), made here on
/// purpose. The replica node is paused (<c>CLIENT PAUSE ALL</c>) while the library sends a subscribe there; the
/// library's side is dropped before the answer, so the library sends no unsubscribe; the node then takes the subscribe.
/// Each message on the channel then reaches the replica twice, and nothing the library is asked to unsubscribe reaches
/// that copy.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class DoubledSubscriptionTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    /// <summary>How long the replica is paused: long enough for the steps below on a slow box, and within the store deadline.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(4);

    /// <summary>A store deadline well past <see cref="Pause"/>: the library must still be waiting for the paused replica's answer.</summary>
    private static RoomServerOptions PatientOptions() => new() { StoreTimeoutMilliseconds = 15_000 };

    [Fact]
    public async Task UnsubscribingOnTheShardsReplicasRemovesACopyTheLibraryLostTrackOf()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(cluster.ConnectionString, "copy-test", PatientOptions());
        var channel = RedisChannel.Sharded("rs:{copy}:events");
        var (master, replica) = await ShardOfAsync(cluster, "rs:{copy}:events");

        await LeaveUntrackedCopyAsync(redis.Connection, channel, replica);

        await redis.Connection.UnsubscribeEverywhereAsync(channel, TimeSpan.FromSeconds(5));

        (await replica.ShardSubscribersAsync("rs:{copy}:events")).Should().Be(0, "the copy on the replica is unsubscribed");
        (await master.ShardSubscribersAsync("rs:{copy}:events")).Should().Be(0, "nothing was left on the master either");
    }

    /// <summary>
    /// A room whose channel has such a copy: its first event comes twice (delivered once: the filter), which makes the
    /// backplane subscribe the room again with the copy unsubscribed and send its members their position; the next event
    /// comes once, over the master.
    /// </summary>
    [Fact]
    public async Task ARoomHeardTwiceIsSubscribedAgainOnceAndItsMembersAreToldToCatchUp()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(cluster.ConnectionString, "room-copy-test", PatientOptions());
        var connection = redis.Connection;
        var channel = RedisKeys.Events("twice", sharded: true);
        var (master, replica) = await ShardOfAsync(cluster, channel.ToString());
        var backplane = new RedisBackplane(connection, new FailoverEpochs(connection, Options.Create(PatientOptions())), NullLogger<RedisBackplane>.Instance);
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backplane.Restored += rooms =>
        {
            if (rooms is not null && rooms.Contains("twice"))
            {
                restored.TrySetResult();
            }
        };

        await LeaveUntrackedCopyAsync(connection, channel, replica);
        var delivered = new List<long>();
        await using var room = await backplane.SubscribeAsync("twice", m =>
        {
            lock (delivered)
            {
                delivered.Add(((EncodedRoomMessage)m).DecodeEvent()!.Version);
            }
        }, CancellationToken.None);
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the room subscribes on its master");
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "beside the copy on the replica");

        await connection.PublishAsync(channel, Event("twice", 1));

        await restored.Task.WaitAsync(Settle); // the re-made room's members are sent their position
        await Poll.UntilAsync(async () => await replica.ShardSubscribersAsync(channel.ToString()) == 0, Settle, "the copy on the replica is unsubscribed");
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the room is subscribed again, on its master");

        await connection.PublishAsync(channel, Event("twice", 2));
        await Poll.UntilAsync(() => Task.FromResult(Delivered(delivered).Contains(2)), Settle, "the next event arrives");
        Delivered(delivered).Should().Equal([1, 2], "the room delivers both events, in order");
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(0, "no copy came back on the replica");
    }

    /// <summary>
    /// The same copy on a room with no traffic: the next pass over the rooms (after any loss) probes it, the probe comes
    /// back twice, and the room is subscribed again once.
    /// </summary>
    [Fact]
    public async Task AnIdleRoomWhoseProbeComesBackTwiceIsSubscribedAgainOnce()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(cluster.ConnectionString, "idle-copy-test", PatientOptions());
        var connection = redis.Connection;
        var channel = RedisKeys.Events("idle", sharded: true);
        var (master, replica) = await ShardOfAsync(cluster, channel.ToString());
        var backplane = new RedisBackplane(connection, new FailoverEpochs(connection, Options.Create(PatientOptions())), NullLogger<RedisBackplane>.Instance);
        var restored = new List<IReadOnlyCollection<string>?>();
        backplane.Restored += rooms =>
        {
            lock (restored)
            {
                restored.Add(rooms);
            }
        };

        await LeaveUntrackedCopyAsync(connection, channel, replica);
        await using var room = await backplane.SubscribeAsync("idle", _ => { }, CancellationToken.None);
        (await replica.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the copy is still on the replica");

        backplane.ResubscribeAll();

        await Poll.UntilAsync(async () => await replica.ShardSubscribersAsync(channel.ToString()) == 0, Settle, "the copy on the replica is unsubscribed");
        await Poll.UntilAsync(() => Task.FromResult(Snapshot(restored).Any(r => r is not null && r.Contains("idle"))), Settle, "the re-made room's members are sent their position");
        (await master.ShardSubscribersAsync(channel.ToString())).Should().Be(1, "the room is subscribed again, on its master");
    }

    /// <summary>
    /// The removal channel with such a copy: removals are rare, so the broadcast looks again a few seconds after it
    /// subscribed; that probe comes back twice, and the channel is subscribed again with the copy unsubscribed. A removal
    /// then is heard once.
    /// </summary>
    [Fact]
    public async Task TheRemovalChannelHeardTwiceIsSubscribedAgainOnce()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(cluster.ConnectionString, "removal-copy-test", PatientOptions());
        var connection = redis.Connection;
        var channel = RedisChannel.Sharded("rs-removals");
        var (master, replica) = await ShardOfAsync(cluster, "rs-removals");
        var backplane = new RedisBackplane(connection, new FailoverEpochs(connection, Options.Create(PatientOptions())), NullLogger<RedisBackplane>.Instance);
        var shutdown = new ReplicaShutdown();
        var broadcast = new RedisMemberRemovalBroadcast(connection, backplane, shutdown, NullLogger<RedisMemberRemovalBroadcast>.Instance);
        var heard = new List<string>();
        broadcast.Heard += removal =>
        {
            lock (heard)
            {
                heard.Add(removal.MemberId);
            }
        };

        await LeaveUntrackedCopyAsync(connection, channel, replica);
        try
        {
            await broadcast.StartAsync(CancellationToken.None);
            await Poll.UntilAsync(async () => await master.ShardSubscribersAsync("rs-removals") == 1, Settle, "the broadcast subscribes on the master");

            await Poll.UntilAsync(async () => await replica.ShardSubscribersAsync("rs-removals") == 0, Settle, "the copy on the replica is unsubscribed after the second look");
            await Poll.UntilAsync(async () => await master.ShardSubscribersAsync("rs-removals") == 1, Settle, "the channel is subscribed again on the master");

            await broadcast.PublishAsync(new MemberRemovedNotice("room", "gone", null));
            await Poll.UntilAsync(() => Task.FromResult(Heard(heard).Count > 0), Settle, "the removal is heard");
            await Task.Delay(TimeSpan.FromSeconds(1)); // a second copy would be here by now
            Heard(heard).Should().Equal(["gone"], "the removal is heard once");
        }
        finally
        {
            await broadcast.StopAsync(CancellationToken.None);
            shutdown.Stop();
        }
    }

    private static List<string> Heard(List<string> heard) => Snapshot(heard);

    private static List<T> Snapshot<T>(List<T> items)
    {
        lock (items)
        {
            return [.. items];
        }
    }

    private static string Event(string roomId, long version) =>
        "E{\"roomId\":\"" + roomId + "\",\"epoch\":\"e\",\"version\":" + version.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"type\":\"refresh\",\"at\":\"t\"}";

    private static List<long> Delivered(List<long> delivered)
    {
        lock (delivered)
        {
            return [.. delivered];
        }
    }

    internal static async Task<(RedisClusterProcess.Node Master, RedisClusterProcess.Node Replica)> ShardOfAsync(RedisClusterProcess cluster, string channel)
    {
        var master = await cluster.MasterOfAsync(channel);
        return (master, await cluster.ReplicaOfAsync(master.Port));
    }

    /// <summary>
    /// Subscribes <paramref name="channel"/> on <paramref name="replica"/> over the connection's subscription link, with the
    /// library tracking nothing: the replica is paused, the library's side is dropped while its subscribe waits there
    /// (no server known yet, so no unsubscribe is sent), and the replica takes the subscribe once the pause ends.
    /// </summary>
    private static Task LeaveUntrackedCopyAsync(RedisConnection connection, RedisChannel channel, RedisClusterProcess.Node replica) =>
        LeaveUntrackedCopyAsync(connection.Subscriber, channel, replica);

    /// <summary>The same over any multiplexer's subscriber, whose async timeout must outlast <see cref="Pause"/>.</summary>
    internal static async Task LeaveUntrackedCopyAsync(ISubscriber subscriber, RedisChannel channel, RedisClusterProcess.Node replica)
    {
        await replica.ExecuteAsync("CLIENT", "PAUSE", ((long)Pause.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL");
        var subscribing = subscriber.SubscribeAsync(channel, CommandFlags.DemandReplica);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        subscribing.IsCompleted.Should().BeFalse("the paused replica has not answered the subscribe yet");
        await subscriber.UnsubscribeAsync(channel);
        subscribing.IsCompleted.Should().BeFalse("the library's side was dropped before the paused replica answered (else no copy forms)");
        await subscribing.WaitAsync(Pause + TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(async () => await replica.ShardSubscribersAsync(channel.ToString()) == 1, TimeSpan.FromSeconds(10), "the replica takes the subscribe after its pause");
    }
}
