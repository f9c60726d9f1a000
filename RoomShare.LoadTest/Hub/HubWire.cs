namespace RoomShare.LoadTest.Hub;

// The parts of RoomShare's hub messages (DESIGN.md §3) the load client reads. System.Text.Json skips
// every other field, so a snapshot in a JoinResult costs parsing but no objects.

/// <summary>A pushed <c>RoomEvent</c>: the room, its version, the type and, for <c>choice</c>, the writer's opId and the quantity set.</summary>
public sealed record RoomEventWire(string RoomId, long Version, string Type, string? OpId, int? Quantity = null);

/// <summary>A client's position in a room.</summary>
public sealed record PositionWire(string Epoch, long Version);

/// <summary>
/// What <c>Join</c> returns, as far as the load client cares: where the member starts, which replica answered,
/// and the snapshot's quantity cap (a JoinResult carries a snapshot or missed events, never both).
/// </summary>
public sealed record JoinResultWire(PositionWire Position, string Replica, SnapshotWire? Snapshot = null);

/// <summary>The part of a <c>RoomSnapshot</c> the load client reads: <c>maxQuantity</c>, absent from an older replica's.</summary>
public sealed record SnapshotWire(int? MaxQuantity);

/// <summary>Any argument or result the load client does not read (Position, Presence, the SetChoice ack).</summary>
public sealed class IgnoredWire;
