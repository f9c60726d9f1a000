using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// StackExchange.Redis 2+ runs plain subscription handlers concurrently, which would reorder a room's
/// events; the backplane's per-room ChannelMessageQueue must hand them over one at a time in channel
/// order. Checked with a handler that takes a little, varying, time — with plain concurrent handlers
/// that reorders a burst.
/// </summary>
public sealed class RedisBackplaneOrderTests
{
    [Fact]
    public async Task ARoomsMessagesReachTheHandlerOneAtATimeInChannelOrder()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await AssertOneAtATimeInChannelOrderAsync(redis.Endpoint, sharded: false);
    }

    /// <summary>The same on a Redis Cluster, where the room's channel is sharded (SSUBSCRIBE on its slot's master).</summary>
    [Fact]
    public async Task ARoomsShardedMessagesReachTheHandlerOneAtATimeInChannelOrder()
    {
        await using var cluster = await RedisClusterProcess.StartAsync();
        await AssertOneAtATimeInChannelOrderAsync(cluster.ConnectionString, sharded: true);
    }

    /// <summary>
    /// A resubscribe pass may still hold a room's channel after the room's last member left and a new member
    /// subscribed the room afresh: the old channel must not subscribe again, or its unsubscribe's failure path
    /// (which drops every handler of the channel) would silence the new one.
    /// </summary>
    [Fact]
    public async Task ADisposedRoomChannelNeverSubscribesAgainBesideTheRoomsNextOne()
    {
        await using var redisServer = await RedisServerProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(redisServer.Endpoint, "dispose-test");
        var connection = redis.Connection;
        var backplane = new RedisBackplane(connection, new FailoverEpochs(connection, Options.Create(new RoomServerOptions())), NullLogger<RedisBackplane>.Instance);
        var old = (RedisBackplane.RoomChannel)await backplane.SubscribeAsync("again", _ => { }, CancellationToken.None);
        await old.DisposeAsync();
        var heard = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var next = await backplane.SubscribeAsync("again", m => heard.TrySetResult(((EncodedRoomMessage)m).DecodeEvent()!.Version), CancellationToken.None);

        await old.SubscribeAsync(); // what a resubscribe pass holding the old channel does
        old.IsSubscribed.Should().BeFalse("a disposed channel stays unsubscribed");
        await old.UnsubscribeAsync();

        await connection.PublishAsync(RedisKeys.Events("again", false), "E{\"roomId\":\"again\",\"epoch\":\"e\",\"version\":1,\"type\":\"refresh\",\"at\":\"t\"}");
        (await heard.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(1, "the room's live subscription still delivers");
    }

    private static async Task AssertOneAtATimeInChannelOrderAsync(string connectionString, bool sharded)
    {
        const int Count = 2000;
        await using var redis = await StandaloneRedisConnection.StartAsync(connectionString, "order-test");
        var connection = redis.Connection;
        connection.Topology.ShardedPubSub.Should().Be(sharded, "auto: sharded exactly on a cluster");
        var backplane = new RedisBackplane(connection, new FailoverEpochs(connection, Options.Create(new RoomServerOptions())), NullLogger<RedisBackplane>.Instance);
        var received = new List<long>(Count);
        var inHandler = 0;
        var overlaps = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await backplane.SubscribeAsync("order", message =>
        {
            if (Interlocked.Increment(ref inHandler) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            var version = ((EncodedRoomMessage)message).DecodeEvent()!.Version;
            Thread.SpinWait((int)(version % 7) * 200);
            lock (received)
            {
                received.Add(version);
                if (received.Count == Count)
                {
                    all.TrySetResult();
                }
            }

            Interlocked.Decrement(ref inHandler);
        }, CancellationToken.None);

        var channel = RedisKeys.Events("order", sharded);
        await Task.WhenAll(Enumerable.Range(1, Count).Select(v => connection.PublishAsync(channel,
            "E{\"roomId\":\"order\",\"epoch\":\"e\",\"version\":" + v.ToString(CultureInfo.InvariantCulture) + ",\"type\":\"refresh\",\"at\":\"t\"}")));
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30));

        overlaps.Should().Be(0, "the handler is never entered twice at once");
        received.Should().Equal(Enumerable.Range(1, Count).Select(v => (long)v), "channel order is version order");
    }
}
