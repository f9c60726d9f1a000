using System.Reflection;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// What StackExchange.Redis holds for a channel in this process: its handlers and its queues, from the library's own
/// count (internal: the library's tests use it; there is no public one). Fails plainly if a later version drops it.
/// </summary>
public static class LibrarySubscriptions
{
    public static (int Handlers, int Queues) Count(IConnectionMultiplexer multiplexer, RedisChannel channel)
    {
        var count = typeof(ConnectionMultiplexer).GetMethod("GetSubscriberCounts", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("StackExchange.Redis no longer has ConnectionMultiplexer.GetSubscriberCounts");
        object[] arguments = [channel, 0, 0];
        count.Invoke(multiplexer, arguments);
        return ((int)arguments[1], (int)arguments[2]);
    }
}
