using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Where room channels are sharded (<see cref="RedisTopology.ShardedPubSub"/>), every other channel is too: the removal
/// broadcast and SignalR's own backplane (<see cref="ShardedBackplaneMultiplexer"/>). A classic channel on a cluster is
/// subscribed on whichever node the library picks, and its restores after the pub/sub connections dropped went to two or
/// three nodes at once — a classic PUBLISH reaches every node, so each message then came that many times, for good (an
/// announcement to every member, a removal). A shard channel lives on its slot's master: a SUBSCRIBE sent elsewhere is
/// refused (MOVED), never kept.
/// </summary>
public static class ShardedChannels
{
    /// <summary>
    /// The channel as a shard channel where channels are sharded; as it is otherwise (patterns cannot be), and no channel
    /// stays none (the library's "any server" in its questions).
    /// </summary>
    public static RedisChannel For(RedisChannel channel, bool sharded) =>
        sharded && !channel.IsNullOrEmpty && !channel.IsSharded && !channel.IsPattern ? RedisChannel.Sharded((byte[])channel!) : channel;

    /// <summary>
    /// A shard channel on its master only, as the library knows the roles (it keeps the flag for its own restores too).
    /// Left to prefer the master, a restore made while the master's subscription link was still reconnecting went to the
    /// shard's replica, and the master's own restore a moment later subscribed it there as well: subscribed on both
    /// nodes, each message delivered twice, for good. The cost: after a failover, until the library has re-read the
    /// cluster's topology (a MOVED asks it to), a re-subscription finds no master and fails; the backplane's passes and
    /// the beats retry every second. A single server's replica promoted in its master's place is seen as a master only
    /// later still, so a classic channel keeps the library's default and is not held up then.
    /// </summary>
    public static CommandFlags SubscribeFlags(RedisChannel channel) =>
        channel.IsSharded ? CommandFlags.DemandMaster : CommandFlags.None;
}
