using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// The removal channel's subscription attempts, while Redis holds every answer on the subscription connection (its
/// subscribes and unsubscribes time out, one attempt a second), leave one handler once the answers flow again: an
/// attempt that timed out must not register the handler later, when its held answer finally arrives. A second
/// handler would hear every later removal twice for the life of the process.
/// </summary>
public sealed class RemovalChannelStallTests
{
    [Fact]
    public async Task AttemptsThatTimedOutLeaveOneHandlerAndEachRemovalIsHeardOnce()
    {
        await using var redisServer = await RedisServerProcess.StartAsync();
        await using var proxy = SubscriptionStallProxy.Start(redisServer.Port);
        var options = new RoomServerOptions { StoreTimeoutMilliseconds = 500 };
        await using var redis = await StandaloneRedisConnection.StartAsync(proxy.Endpoint, "removal-stall", options);
        var shutdown = new ReplicaShutdown();
        var backplane = new RedisBackplane(redis.Connection, new FailoverEpochs(redis.Connection, Options.Create(options)), NullLogger<RedisBackplane>.Instance);
        var broadcast = new RedisMemberRemovalBroadcast(redis.Connection, backplane, shutdown, NullLogger<RedisMemberRemovalBroadcast>.Instance);
        var heard = new ConcurrentQueue<MemberRemovedNotice>();
        broadcast.Heard += heard.Enqueue;
        var resubscribed = 0;
        broadcast.Resubscribed += () => Interlocked.Increment(ref resubscribed);

        proxy.StallSubscriptions = true;
        await broadcast.StartAsync(CancellationToken.None);
        try
        {
            // Several attempts, each timed out at 500 ms behind the held answers, a second apart.
            await Task.Delay(TimeSpan.FromSeconds(4.5));
            resubscribed.Should().Be(0, "no attempt can have succeeded while every answer was held");
            proxy.StallSubscriptions = false;
            await Poll.UntilAsync(() => Volatile.Read(ref resubscribed) > 0, TimeSpan.FromSeconds(15), "the channel subscribed once the answers flowed");

            // Every held answer has arrived by now, and with it whatever a timed-out attempt still had to do.
            await Task.Delay(TimeSpan.FromSeconds(2));
            LibrarySubscriptions.Count(redis.Connection.Connection, RedisMemberRemovalBroadcast.Name).Handlers
                .Should().Be(1, "one handler hears the channel, whatever the timed-out attempts left");

            await broadcast.PublishAsync(new MemberRemovedNotice("r-stall", "m-1", "host"));
            await Poll.UntilAsync(() => !heard.IsEmpty, TimeSpan.FromSeconds(10), "the removal heard");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            heard.Should().ContainSingle("the one removal published is heard once").Which.MemberId.Should().Be("m-1");
        }
        finally
        {
            shutdown.Stop();
            await broadcast.StopAsync(CancellationToken.None);
        }
    }
}
