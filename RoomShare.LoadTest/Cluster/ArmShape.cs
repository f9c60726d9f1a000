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
}

/// <summary>
/// One cluster shape the scenarios run against, e.g. "roomshare-2" (two replicas on Redis), and the
/// hub protocol its members speak: JSON, or MessagePack ("roomshare-2-msgpack"; RoomServer only).
/// </summary>
public sealed record ArmShape(string Name, ArmServer Server, int Replicas, bool MessagePack = false)
{
    public static ArmShape RoomShare(int replicas) => new($"roomshare-{replicas}", ArmServer.RoomShare, replicas);

    public static ArmShape RoomShareMessagePack(int replicas) => new($"roomshare-{replicas}-msgpack", ArmServer.RoomShare, replicas, MessagePack: true);

    public static readonly ArmShape EmbeddedMode = new("embedded", ArmServer.Embedded, 1);

    public static readonly ArmShape FloorArm = new("floor", ArmServer.Floor, 1);

    /// <summary>The arms a profile can name: roomshare-1..3, roomshare-2-msgpack, embedded, floor.</summary>
    public static IReadOnlyList<ArmShape> Known { get; } = [RoomShare(1), RoomShare(2), RoomShare(3), RoomShareMessagePack(2), EmbeddedMode, FloorArm];
}
