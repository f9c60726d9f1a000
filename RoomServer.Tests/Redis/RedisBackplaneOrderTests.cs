using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Metrics;
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
        const int Count = 2000;
        await using var redis = await RedisServerProcess.StartAsync();
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var connection = new RedisConnection(
            Options.Create(new RedisConnectionOptions { ConnectionString = redis.Endpoint }),
            Options.Create(new RoomServerOptions { ReplicaId = "order-test" }),
            new RoomMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            NullLogger<RedisConnection>.Instance);
        await connection.StartAsync(CancellationToken.None);
        var backplane = new RedisBackplane(connection, NullLogger<RedisBackplane>.Instance);
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

        var channel = RedisKeys.Events("order");
        await Task.WhenAll(Enumerable.Range(1, Count).Select(v => connection.PublishAsync(channel,
            "E{\"roomId\":\"order\",\"epoch\":\"e\",\"version\":" + v.ToString(CultureInfo.InvariantCulture) + ",\"type\":\"refresh\",\"at\":\"t\"}")));
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30));

        overlaps.Should().Be(0, "the handler is never entered twice at once");
        received.Should().Equal(Enumerable.Range(1, Count).Select(v => (long)v), "channel order is version order");
    }
}
