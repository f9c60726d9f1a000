using System.Text.Json;

namespace RoomShare.RoomServer.Rooms;

// The records IRoomStore's writes take, one per write: each is validated by the edge that builds it.

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
    long TokenRemovalGeneration = 0);

/// <summary>How a choice changes: set to a value, or adjust by a delta (floored at 0, capped at the max).</summary>
public enum ChoiceMode
{
    Set,
    Adjust,
}

/// <summary>
/// A validated choice change. <see cref="OpId"/> makes retries idempotent. The cap an adjustment is
/// clamped to is the store's <c>MaxQuantity</c> option, not the caller's to choose.
/// </summary>
public sealed record ChoiceChange(
    string RoomId,
    string MemberId,
    string MenuId,
    ChoiceMode Mode,
    int Value,
    string? OpId,
    string At,
    long TokenRemovalGeneration = 0);

/// <summary>A retried change's opId, looked up without its arguments (<see cref="IRoomStore.ReplayChoiceAsync"/>).</summary>
public sealed record ChoiceReplay(string RoomId, string MemberId, string OpId, long TokenRemovalGeneration);

/// <summary>
/// The owner (or the API, <c>by: api</c>) removes a member for good: their choices leave the order,
/// they leave <c>members</c>, and their removal generation goes up by one, so every token issued
/// before it (carrying a lower one) is refused from then on.
/// </summary>
public sealed record MemberRemoval(string RoomId, string MemberId, string By, string At);

/// <summary>A member's refresh request; their token's removal generation lets a removed member's old token be refused.</summary>
public sealed record RefreshRequest(string RoomId, string MemberId, string At, long TokenRemovalGeneration = 0);

/// <summary>A lifecycle change (<see cref="RoomStates"/>) asked for by the owner or the API (<c>by: api</c>).</summary>
public sealed record StateChange(string RoomId, string State, string By, string At);

/// <summary>
/// A <c>notice</c> from the menu app: <see cref="Payload"/> is any JSON value, already size-checked. With an
/// <see cref="Idempotency"/> key, a notice the room has already applied under it answers its version again.
/// </summary>
public sealed record NoticePublication(string RoomId, string Kind, JsonElement Payload, string At, IdempotencyKey? Idempotency = null);

/// <summary>Deletes a room, after a last <c>state: deleted</c> event stamped <see cref="At"/>.</summary>
public sealed record RoomDeletion(string RoomId, string At);

/// <summary>One connection left the room (Leave, a disconnect, or a tick finding it gone).</summary>
public sealed record ConnectionDeparture(string RoomId, ConnectionKey Connection);

/// <summary>A replica's tick for one room: the connections it still holds there, whose leases it renews.</summary>
public sealed record PresenceSweep(string RoomId, IReadOnlyCollection<LocalConnection> LiveConnections);
