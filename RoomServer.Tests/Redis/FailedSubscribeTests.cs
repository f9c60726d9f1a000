using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A subscribe that times out leaves no queue registered with the client library. The library adds the queue before
/// it asks Redis and keeps it after a failure, restoring it on every reconnect: a room's or a heartbeat's channel
/// would then carry a second queue nobody reads, which keeps every later message for good (the heartbeat's: one a
/// second, for the life of the process, after each outage that failed a beat's subscribe).
/// </summary>
public sealed class FailedSubscribeTests
{
    [Fact]
    public async Task ASubscribeThatTimesOutLeavesNoQueueAndTheNextOneIsTheChannelsOnly()
    {
        await using var redisServer = await RedisServerProcess.StartAsync();
        await using var proxy = SubscriptionStallProxy.Start(redisServer.Port);
        await using var redis = await StandaloneRedisConnection.StartAsync(proxy.Endpoint, "failed-subscribe", new RoomServerOptions { StoreTimeoutMilliseconds = 500 });
        var channel = RedisChannel.Literal("rs-test-failed-subscribe:" + Guid.NewGuid().ToString("N"));

        proxy.StallSubscriptions = true;
        var stalled = () => redis.Connection.SubscribeQueueAsync(channel);
        await stalled.Should().ThrowAsync<RoomException>("Redis's confirmation of the SUBSCRIBE is held past the store deadline");
        Queues(redis.Connection.Connection, channel).Should().Be(0, "the failed subscribe's queue is gone from the library");

        proxy.StallSubscriptions = false;
        var queue = await redis.Connection.SubscribeQueueAsync(channel);
        Queues(redis.Connection.Connection, channel).Should().Be(1, "the channel's one queue is the one that is read");
        var heard = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.OnMessage(message => heard.TrySetResult(message.Message.ToString()));
        await redis.Connection.PublishAsync(channel, "after");
        (await heard.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("after");
    }

    private static int Queues(IConnectionMultiplexer multiplexer, RedisChannel channel) =>
        LibrarySubscriptions.Count(multiplexer, channel).Queues;
}
