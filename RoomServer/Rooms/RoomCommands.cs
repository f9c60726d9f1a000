namespace RoomShare.RoomServer.Rooms;

/// <summary>A validated request to create a room.</summary>
public sealed record NewRoom(string RoomId, string Epoch, string Name, IReadOnlyList<MenuItem> Menu, TimeSpan Ttl, string At);

/// <summary>Who is joining, from which connection, and from which position (null = fresh).</summary>
public sealed record JoinRequest(
    string RoomId,
    string MemberId,
    string DisplayName,
    ConnectionKey Connection,
    RoomPosition? Since,
    string At,
    string Role = "member",
    long TokenIssuedAtMs = 0);

/// <summary>
/// What the store returns for a join: the position and either a snapshot or the missed events. With
/// missed events comes every member's current presence, which a resuming client may have missed
/// (presence is not versioned, so history cannot replay it).
/// </summary>
public sealed record JoinOutcome(
    RoomPosition Position,
    RoomSnapshot? Snapshot,
    IReadOnlyList<RoomEvent>? Missed,
    IReadOnlyList<SnapshotMember>? Presence = null,
    long PresenceSeq = 0);

/// <summary>How a choice changes: set to a value, or adjust by a delta (floored at 0, capped at the max).</summary>
public enum ChoiceMode
{
    Set,
    Adjust,
}

/// <summary>A validated choice change. <see cref="OpId"/> makes retries idempotent.</summary>
public sealed record ChoiceChange(
    string RoomId,
    string MemberId,
    string MenuId,
    ChoiceMode Mode,
    int Value,
    string? OpId,
    int MaxQuantity,
    string At,
    long TokenIssuedAtMs = 0);

/// <summary>
/// Identifies one SignalR connection of one replica. Presence is kept per connection so several
/// devices merge into one member and a dead replica's connections can be recognised by their lease.
/// </summary>
public readonly record struct ConnectionKey(string ReplicaId, string ConnectionId)
{
    /// <summary>The presence hash field: <c>c:REPLICA:CONNECTION</c>.</summary>
    public string Field => $"c:{ReplicaId}:{ConnectionId}";
}

/// <summary>A connection this replica holds in a room, and its member: what a tick renews.</summary>
public readonly record struct LocalConnection(ConnectionKey Key, string MemberId);

/// <summary>
/// The owner (or the API, <c>by: api</c>) removes a member for good: their choices leave the order,
/// they leave <c>members</c>, and tokens issued before <see cref="AtMs"/> are refused from then on.
/// </summary>
public sealed record MemberRemoval(string RoomId, string MemberId, string By, string At, long AtMs);

/// <summary>A member's refresh request; their token's issue time lets a removed member's old token be refused.</summary>
public sealed record RefreshRequest(string RoomId, string MemberId, string At, long TokenIssuedAtMs = 0);
