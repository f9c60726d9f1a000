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
    private SignalRChannelWaits _waits = null!;
    private long _linksSettleBy;

    /// <param name="inner">The library's multiplexer, just connected.</param>
    /// <param name="logger">For its subscriber.</param>
    /// <param name="waits">For its subscriber: the once-only channels not subscribed yet.</param>
    /// <param name="linksSettle">How long from now its subscriber waits for a master's link before subscribing (<see cref="ShardedSubscriber"/>).</param>
    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner, ILogger logger, SignalRChannelWaits waits, TimeSpan linksSettle = default)
    {
        var proxy = Create<IConnectionMultiplexer, ShardedBackplaneMultiplexer>();
        var sharded = (ShardedBackplaneMultiplexer)(object)proxy;
        sharded._inner = inner;
        sharded._logger = logger;
        sharded._waits = waits;
        sharded._linksSettleBy = Environment.TickCount64 + (long)linksSettle.TotalMilliseconds;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = ProxiedCall.Invoke(_inner, targetMethod, args);
        return targetMethod!.Name == nameof(IConnectionMultiplexer.GetSubscriber) ? ShardedSubscriber.Wrap((ISubscriber)result!, _logger, _waits, _linksSettleBy) : result;
    }
}
