using System.Reflection;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A subscriber whose every channel is a shard channel (<see cref="ShardedChannels.For"/>), and whose subscriptions
/// demand the master (<see cref="ShardedChannels.SubscribeFlags"/>). The rest is the subscriber's own.
/// <para>
/// A shard channel can be subscribed only while its slot's master is reachable, where a classic one took any node. SignalR
/// subscribes its <c>all</c>, group and ack channels once, as it connects, and never again if that fails (the library would
/// keep the failed subscription's queue, unread, and restore it): so a failed subscribe is dropped here and tried again,
/// a second apart, through a shard's failover (<see cref="SubscribeTries"/>).
/// </para>
/// </summary>
// Public and not sealed: DispatchProxy derives the proxy type from it.
public class ShardedSubscriber : DispatchProxy
{
    /// <summary>Tries of a subscribe, a second apart: longer than a shard's failover takes (DESIGN.md §2).</summary>
    internal const int SubscribeTries = 20;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private ISubscriber _inner = null!;

    public static ISubscriber Wrap(ISubscriber inner)
    {
        var proxy = Create<ISubscriber, ShardedSubscriber>();
        ((ShardedSubscriber)(object)proxy)._inner = inner;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (args is null)
        {
            return ProxiedCall.Invoke(_inner, targetMethod, args);
        }

        var subscribe = targetMethod.Name is nameof(ISubscriber.Subscribe) or nameof(ISubscriber.SubscribeAsync);
        var parameters = targetMethod.GetParameters();
        for (var i = 0; i < args.Length; i++)
        {
            if (parameters[i].ParameterType == typeof(RedisChannel))
            {
                args[i] = ShardedChannels.For((RedisChannel)args[i]!, sharded: true);
            }
            else if (subscribe && parameters[i].ParameterType == typeof(CommandFlags))
            {
                // The master's only, whatever role was asked for (DemandReplica's bits are all the role bits).
                args[i] = ((CommandFlags)args[i]! & ~CommandFlags.DemandReplica) | CommandFlags.DemandMaster;
            }
        }

        return targetMethod.ReturnType == typeof(Task<ChannelMessageQueue>)
            ? SubscribeQueueAsync(targetMethod, args)
            : ProxiedCall.Invoke(_inner, targetMethod, args);
    }

    /// <summary>SignalR's subscribe (a queue it reads), tried again while the channel's master cannot be reached.</summary>
    private async Task<ChannelMessageQueue> SubscribeQueueAsync(MethodInfo subscribe, object?[] args)
    {
        var channel = (RedisChannel)args.Single(a => a is RedisChannel)!;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await (Task<ChannelMessageQueue>)ProxiedCall.Invoke(_inner, subscribe, args)!;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                await DropAsync(channel);
                if (attempt == SubscribeTries)
                {
                    throw;
                }
            }

            await Task.Delay(RetryDelay);
        }
    }

    /// <summary>Every handler and queue of the channel, at once here; Redis is told if it answers within a second.</summary>
    private async Task DropAsync(RedisChannel channel)
    {
        try
        {
            await _inner.UnsubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Gone locally already; the server learns when the connection does.
        }
    }
}
