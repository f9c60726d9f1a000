using System.ComponentModel.DataAnnotations;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// <c>RoomServer:Redis</c> (DESIGN.md §2 "Outgrowing one Redis"): how the store uses a Redis Cluster.
/// Unset values follow the server: a cluster gets sharded pub/sub and one replica acknowledgement
/// per write, a single server neither.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>
    /// <c>auto</c> (on exactly when the server is a cluster), <c>on</c> (SPUBLISH/SSUBSCRIBE; a
    /// non-cluster server then refuses to start), or <c>off</c> (classic PUBLISH/SUBSCRIBE, which a
    /// cluster broadcasts to every node). For every channel alike: rooms', <c>rs-removals</c> and
    /// SignalR's own backplane's (ShardedChannels).
    /// </summary>
    public ShardedPubSubMode ShardedPubSub { get; set; } = ShardedPubSubMode.Auto;

    /// <summary>
    /// How many replicas must confirm a write (<c>WAIT</c>, bounded by the store deadline) before it is
    /// acknowledged; fewer → <c>unavailable</c>. Default when unset: 1 on a cluster, 0 on a single server.
    /// </summary>
    [Range(0, 16)]
    public int? ReplicasToAcknowledge { get; set; }

    /// <summary>
    /// The shortest <c>StoreTimeoutMilliseconds</c> RoomShare takes when writes are confirmed: a confirmed
    /// write's <c>WAIT</c> ends 200 ms before the deadline (Redis answers a timed-out WAIT on its next tick)
    /// and a reshard's resends stop 100 ms before that, so a shorter deadline leaves a write too little time
    /// to wait out a reshard or a slow replica (then <c>unavailable</c>), and below 300 ms none at all.
    /// </summary>
    public const int MinimumConfirmedDeadlineMilliseconds = 500;

    /// <summary>Why the store deadline is too short for writes confirmed by <paramref name="replicas"/> replicas; null when it is not.</summary>
    public static string? DeadlineTooShort(int replicas, int storeTimeoutMilliseconds) =>
        replicas > 0 && storeTimeoutMilliseconds < MinimumConfirmedDeadlineMilliseconds
            ? $"RoomServer:StoreTimeoutMilliseconds is {storeTimeoutMilliseconds}, but every write is confirmed by {replicas} Redis replica(s) " +
              "(RoomServer:Redis:ReplicasToAcknowledge; unset, 1 on a Redis Cluster), and a confirmed write needs at least " +
              $"{MinimumConfirmedDeadlineMilliseconds} ms: its WAIT ends 200 ms before the deadline and a reshard's resends 100 ms before that, " +
              "so a shorter deadline leaves too little time to wait out a reshard or a slow replica. " +
              $"Set RoomServer__StoreTimeoutMilliseconds to {MinimumConfirmedDeadlineMilliseconds} or more, or RoomServer__Redis__ReplicasToAcknowledge " +
              "to 0 (then an acknowledged write can be lost when a master fails over)."
            : null;
}

public enum ShardedPubSubMode
{
    Auto,
    On,
    Off,
}
