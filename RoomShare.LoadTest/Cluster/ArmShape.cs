namespace RoomShare.LoadTest.Cluster;

/// <summary>What a cluster arm runs behind nginx.</summary>
public enum ArmServer
{
    /// <summary>RoomServer replicas on one Redis (eng/cluster.sh's default).</summary>
    RoomShare,

    /// <summary>One RoomServer without Redis: rooms in memory (embedded mode).</summary>
    Embedded,

    /// <summary>RoomShare.Floor: a bare Kestrel WebSocket fan-out, no SignalR, no Redis.</summary>
    Floor,

    /// <summary>RoomServer replicas on a Redis Cluster of 3 masters + 3 replicas (ROOMSHARE_CLUSTER_STORE=redis-cluster).</summary>
    RoomShareOnRedisCluster,
}

/// <summary>
/// One cluster shape the scenarios run against, e.g. "roomshare-2" (two replicas on Redis), and the
/// hub protocol its members speak: JSON, or MessagePack ("roomshare-2-msgpack"; RoomServer only).
/// With <paramref name="RoomHint"/> ("roomshare-2-roomhint") every member's hub URL names its room
/// (<c>room=</c>), so nginx sends a room's members to one replica (DESIGN §7). With
/// <paramref name="RuntimeLikeRoomServer"/> ("floor-tuned") the floor runs with RoomServer's runtime settings
/// (workstation GC, the thread pool's spin limit at 0) instead of the web SDK's defaults (server GC, spinning).
/// With <paramref name="WebClient"/> ("roomshare-2-webclient") members connect as the reference web client
/// does: the room hint, negotiate with stateful reconnect, and an ack a second for what they received.
/// </summary>
public sealed record ArmShape(string Name, ArmServer Server, int Replicas, bool MessagePack = false, bool RoomHint = false, bool RuntimeLikeRoomServer = false, bool WebClient = false)
{
    public static ArmShape RoomShare(int replicas) => new($"roomshare-{replicas}", ArmServer.RoomShare, replicas);

    public static ArmShape RoomShareMessagePack(int replicas) => new($"roomshare-{replicas}-msgpack", ArmServer.RoomShare, replicas, MessagePack: true);

    public static ArmShape RoomShareRoomHint(int replicas) => new($"roomshare-{replicas}-roomhint", ArmServer.RoomShare, replicas, RoomHint: true);

    public static ArmShape RoomShareWebClient(int replicas) => new($"roomshare-{replicas}-webclient", ArmServer.RoomShare, replicas, RoomHint: true, WebClient: true);

    public static readonly ArmShape EmbeddedMode = new("embedded", ArmServer.Embedded, 1);

    public static readonly ArmShape FloorArm = new("floor", ArmServer.Floor, 1);

    public static readonly ArmShape FloorTuned = new("floor-tuned", ArmServer.Floor, 1, RuntimeLikeRoomServer: true);

    public static ArmShape RoomShareOnRedisCluster(int replicas) => new($"roomshare-rc-{replicas}", ArmServer.RoomShareOnRedisCluster, replicas);

    /// <summary>The arms a profile can name: roomshare-1..3, roomshare-2-msgpack, roomshare-2-roomhint, roomshare-2-webclient, roomshare-rc-3 (on a Redis Cluster), embedded, floor, floor-tuned.</summary>
    public static IReadOnlyList<ArmShape> Known { get; } = [RoomShare(1), RoomShare(2), RoomShare(3), RoomShareMessagePack(2), RoomShareRoomHint(2), RoomShareWebClient(2), RoomShareOnRedisCluster(3), EmbeddedMode, FloorArm, FloorTuned];
}
