namespace RoomShare.LoadTest.Hub;

// The parts of RoomShare's hub messages (DESIGN.md §3) the load client reads. System.Text.Json skips
// every other field, so a snapshot in a JoinResult costs parsing but no objects.

/// <summary>A pushed <c>RoomEvent</c>: the room, its version, the type and, for <c>choice</c>, the writer's opId and the quantity set.</summary>
public sealed record RoomEventWire(string RoomId, long Version, string Type, string? OpId, int? Quantity = null);

/// <summary>A client's position in a room.</summary>
public sealed record PositionWire(string Epoch, long Version);

/// <summary>What <c>Join</c> returns, as far as the load client cares: where the member starts, and which replica answered.</summary>
public sealed record JoinResultWire(PositionWire Position, string Replica);

/// <summary>Any argument or result the load client does not read (Position, Presence, the SetChoice ack).</summary>
public sealed class IgnoredWire;
