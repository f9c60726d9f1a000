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
    /// cluster broadcasts to every node).
    /// </summary>
    public ShardedPubSubMode ShardedPubSub { get; set; } = ShardedPubSubMode.Auto;

    /// <summary>
    /// How many replicas must confirm a write (<c>WAIT</c>, bounded by the store deadline) before it is
    /// acknowledged; fewer → <c>unavailable</c>. Default when unset: 1 on a cluster, 0 on a single server.
    /// </summary>
    [Range(0, 16)]
    public int? ReplicasToAcknowledge { get; set; }
}

public enum ShardedPubSubMode
{
    Auto,
    On,
    Off,
}
