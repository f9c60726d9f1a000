using System.Reflection;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// SignalR's own backplane multiplexer where channels are sharded (<see cref="ShardedChannels"/>): SignalR names its
/// channels classic, and this hands it a subscriber that makes each a shard channel — subscribed, published and
/// unsubscribed alike, on every replica. Everything else is the multiplexer's own.
/// </summary>
// Public and not sealed: DispatchProxy derives the proxy type from it.
public class ShardedBackplaneMultiplexer : DispatchProxy
{
    private IConnectionMultiplexer _inner = null!;

    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner)
    {
        var proxy = Create<IConnectionMultiplexer, ShardedBackplaneMultiplexer>();
        ((ShardedBackplaneMultiplexer)(object)proxy)._inner = inner;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = ProxiedCall.Invoke(_inner, targetMethod, args);
        return targetMethod!.Name == nameof(IConnectionMultiplexer.GetSubscriber) ? ShardedSubscriber.Wrap((ISubscriber)result!) : result;
    }
}
