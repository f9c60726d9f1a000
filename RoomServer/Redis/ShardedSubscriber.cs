using System.Reflection;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A subscriber whose every channel is a shard channel (<see cref="ShardedChannels.For"/>), and whose subscriptions
/// demand the master (<see cref="ShardedChannels.SubscribeFlags"/>). The rest is the subscriber's own.
/// <para>
/// A shard channel can be subscribed only while its slot's master is reachable, where a classic one took any node. A
/// failed subscribe is dropped here at once (the library would keep its queue, unread, and restore it). SignalR subscribes
/// its <c>all</c>, <c>internal:groups</c>, ack and return channels once, as it connects, and never again: those are tried
/// again, a second apart, until made (warning 1023 each time) or the multiplexer is disposed. A connection's or a user's
/// channel fails its connect at once, as before: SignalR subscribes a user's under one lock for every user of the replica,
/// so waiting there would hold up every other connect, and the client connects again anyway.
/// </para>
/// <para>
/// A new multiplexer's links to some masters may still be coming up (its connect returns after its connect timeout
/// whether or not every node answered): until <c>linksSettleBy</c>, any failed subscribe is tried again, a tenth of a
/// second apart, so that a replica's first clients are not refused for it. (Asking the library whether the channel's
/// link is up cannot tell: a slot whose master has no link is answered with any other master.) After that a connection's
/// or user's subscribe is never tried again: in an outage it fails, as above.
/// </para>
/// </summary>
// Public and not sealed: DispatchProxy derives the proxy type from it.
public class ShardedSubscriber : DispatchProxy
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan WhileNewRetryDelay = TimeSpan.FromMilliseconds(100);

    private ISubscriber _inner = null!;
    private ILogger _logger = null!;
    private SignalRChannelWaits _waits = null!;
    private long _linksSettleBy;

    /// <param name="inner">The library's subscriber.</param>
    /// <param name="logger">Where a once-only channel's failed attempts are told.</param>
    /// <param name="waits">Where a once-only channel not subscribed yet is kept, for <c>/readyz</c>.</param>
    /// <param name="linksSettleBy">Until this <see cref="Environment.TickCount64"/>, every failed subscribe is tried again.</param>
    public static ISubscriber Wrap(ISubscriber inner, ILogger logger, SignalRChannelWaits waits, long linksSettleBy = 0)
    {
        var proxy = Create<ISubscriber, ShardedSubscriber>();
        var sharded = (ShardedSubscriber)(object)proxy;
        sharded._inner = inner;
        sharded._logger = logger;
        sharded._waits = waits;
        sharded._linksSettleBy = linksSettleBy;
        return proxy;
    }

    /// <summary>The channels SignalR subscribes once, as it connects (its hub's <c>all</c>, group management, acks, results).</summary>
    internal static bool SubscribedOnce(RedisChannel channel)
    {
        var name = channel.ToString();
        return name.EndsWith(":all", StringComparison.Ordinal) || name.EndsWith(":internal:groups", StringComparison.Ordinal)
            || name.Contains(":internal:ack:", StringComparison.Ordinal) || name.Contains(":internal:return:", StringComparison.Ordinal);
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

        if (targetMethod.ReturnType == typeof(Task<ChannelMessageQueue>))
        {
            return SubscribeQueueAsync(targetMethod, args);
        }

        return targetMethod.Name == nameof(ISubscriber.UnsubscribeAsync) && targetMethod.ReturnType == typeof(Task)
            ? UnsubscribeAsync(() => (Task)ProxiedCall.Invoke(_inner, targetMethod, args)!)
            : ProxiedCall.Invoke(_inner, targetMethod, args);
    }

    /// <summary>
    /// SignalR's unsubscribe (a connection's or user's channel, as it disconnects), without the library's refusal when it
    /// knows the channel's node has become a replica: the library has already forgotten the channel, and the node's side
    /// goes with its link (<see cref="ReplicaNodeLinks"/>). Passed on, it would fail the connection's disconnect. The
    /// library throws it as it is called, not through the task: the call is made inside the catch.
    /// </summary>
    private static async Task UnsubscribeAsync(Func<Task> unsubscribe)
    {
        try
        {
            await unsubscribe();
        }
        catch (Exception ex) when (RedisConnection.IsReplicaRefusal(ex))
        {
            // Left to the sweep of replica links.
        }
    }

    /// <summary>
    /// SignalR's subscribe (a queue it reads): dropped when it fails; tried again while the multiplexer is new, and until
    /// made for a channel subscribed once.
    /// </summary>
    private async Task<ChannelMessageQueue> SubscribeQueueAsync(MethodInfo subscribe, object?[] args)
    {
        var channel = (RedisChannel)args.Single(a => a is RedisChannel)!;
        var once = SubscribedOnce(channel);
        var name = WireName(channel);
        if (once)
        {
            _waits.Waiting(name, "being subscribed"); // not ready until made: SignalR subscribes these one after another
        }

        while (true)
        {
            bool whileNew;
            try
            {
                var queue = await (Task<ChannelMessageQueue>)ProxiedCall.Invoke(_inner, subscribe, args)!;
                if (once)
                {
                    _waits.Made(name);
                }

                return queue;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException || RedisConnection.IsReplicaRefusal(ex))
            {
                if (once)
                {
                    _waits.Waiting(name, Brief(ex));
                }

                await DropAsync(channel);
                whileNew = Environment.TickCount64 < _linksSettleBy;
                if (!whileNew && !once)
                {
                    throw;
                }

                if (!whileNew)
                {
                    RedisLog.SignalRChannelNotSubscribed(_logger, name, ex.Message);
                }
            }

            await Task.Delay(whileNew ? WhileNewRetryDelay : RetryDelay);
        }
    }

    /// <summary>The channel as Redis lists it: the library adds SignalR's channel prefix on the wire only.</summary>
    private static string WireName(RedisChannel channel) => RedisRoomsExtensions.SignalRChannelPrefix + channel;

    /// <summary>Why a subscribe failed, short enough for an unauthenticated <c>/readyz</c> (the library's timeouts run to hundreds of characters).</summary>
    private static string Brief(Exception ex)
    {
        var message = ex.Message.Split('\n', 2)[0];
        return ex.GetType().Name + ": " + (message.Length > 120 ? message[..120] + "…" : message);
    }

    /// <summary>
    /// Every handler and queue of the channel, at once here: SignalR keeps one queue per channel. Redis may not be told
    /// (a failed subscribe may have no server left to tell), so one answered late can stay subscribed there, unread,
    /// until its connection drops.
    /// </summary>
    private async Task DropAsync(RedisChannel channel)
    {
        try
        {
            await _inner.UnsubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (RedisConnection.IsRedisFailure(ex))
        {
            // Gone locally already; the server learns when the connection does.
        }
    }
}
