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
    private ILogger _logger = null!;

    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner, ILogger logger)
    {
        var proxy = Create<IConnectionMultiplexer, ShardedBackplaneMultiplexer>();
        var sharded = (ShardedBackplaneMultiplexer)(object)proxy;
        sharded._inner = inner;
        sharded._logger = logger;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = ProxiedCall.Invoke(_inner, targetMethod, args);
        return targetMethod!.Name == nameof(IConnectionMultiplexer.GetSubscriber) ? ShardedSubscriber.Wrap((ISubscriber)result!, _logger) : result;
    }
}
