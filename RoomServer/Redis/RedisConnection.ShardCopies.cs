using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// A shard channel subscribed twice over this replica's connection: once where the client library believes it is, once on
/// another node of its shard that the library lost track of. After a failover the demoted master tells each subscriber it
/// is unsubscribed; the library subscribes the channel again on that node, and a reconfiguration that runs before that
/// answer (any MOVED asks for one) subscribes it on the new master as well. Each message then arrives twice, over both
/// nodes, until the connection drops, and an unsubscribe reaches only the node the library knows.
/// </summary>
public sealed partial class RedisConnection
{
    /// <summary>How long one Redis call may take (<c>StoreTimeoutMilliseconds</c>).</summary>
    public TimeSpan StoreDeadline => _deadline;

    /// <summary>
    /// Unsubscribes <paramref name="channel"/> wherever this replica has it: every handler of it is dropped (the library
    /// unsubscribes where it knows), then, on each replica of its shard, it is subscribed with
    /// <see cref="CommandFlags.DemandReplica"/>, so the library routes it to a replica, and unsubscribed, so the
    /// unsubscribe goes there too. A copy on the master needs nothing: the caller's next subscribe there is on the same
    /// connection. The caller holds the channel's only handler and subscribes again after. Best effort, each step within
    /// <paramref name="wait"/>: with several replicas the library picks one each time and may miss the copy, and a
    /// replica that answers only after the wait takes the subscribe all the same — the next message heard twice asks again.
    /// </summary>
    public async Task UnsubscribeEverywhereAsync(RedisChannel channel, TimeSpan wait)
    {
        await RemoveEveryHandlerAsync(channel, wait);
        if (!channel.IsSharded)
        {
            return;
        }

        var replicas = ReplicasServing(channel);
        for (var i = 0; i < replicas; i++)
        {
            try
            {
                var queue = await Subscriber.SubscribeAsync(channel, CommandFlags.DemandReplica).WaitAsync(wait);
                await queue.UnsubscribeAsync().WaitAsync(wait);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // No replica reachable, or a slow one. The library must not keep this subscription, asked of a replica:
                // the caller's next subscribe would join it there.
                await RemoveEveryHandlerAsync(channel, wait);
                return;
            }
        }
    }

    /// <summary>
    /// What a Redis call can fail with: the library's own errors, a deadline, a closed multiplexer — and its refusal to send
    /// a command meant for a master to a node it now knows as a replica (<see cref="IsReplicaRefusal"/>). Any other
    /// <see cref="RedisCommandException"/> is a bug of ours (a cross-slot call, a bad argument), and is not taken for Redis
    /// being away.
    /// </summary>
    public static bool IsRedisFailure(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException || IsReplicaRefusal(ex);

    /// <summary>
    /// The library's refusal to send a master's command to a node it now knows as a replica: after a failover, an
    /// unsubscribe where the channel was subscribed on the demoted master (the subscription's own flag demands the
    /// master). A <see cref="RedisCommandException"/>, not a <see cref="RedisException"/>, told apart by its message only.
    /// </summary>
    public static bool IsReplicaRefusal(Exception ex) =>
        ex is RedisCommandException && ex.Message.StartsWith("Command cannot be issued to a replica", StringComparison.Ordinal);

    /// <summary>How many replicas the library knows for the master of the channel's slot (one if it cannot tell).</summary>
    private int ReplicasServing(RedisChannel channel)
    {
        var slot = Multiplexer.HashSlot((byte[])channel!);
        var cluster = Multiplexer.GetServers().FirstOrDefault(s => s.IsConnected)?.ClusterConfiguration;
        return Math.Max(1, cluster?.GetBySlot(slot)?.Children.Count ?? 1);
    }
}
