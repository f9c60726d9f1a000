using System.Reflection;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A subscriber whose every channel is a shard channel (<see cref="ShardedChannels.For"/>), and whose subscriptions
/// demand the master (<see cref="ShardedChannels.SubscribeFlags"/>). The rest is the subscriber's own.
/// </summary>
public class ShardedSubscriber : DispatchProxy
{
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
        if (args is not null)
        {
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
        }

        return ProxiedCall.Invoke(_inner, targetMethod, args);
    }
}
