namespace RoomShare.RoomServer.Rooms;

// The records IRoomStore's writes take: each is validated by the edge that builds it.

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
/// The owner (or the API, <c>by: api</c>) removes a member for good: their choices leave the order,
/// they leave <c>members</c>, and tokens issued before <see cref="AtMs"/> are refused from then on.
/// </summary>
public sealed record MemberRemoval(string RoomId, string MemberId, string By, string At, long AtMs);

/// <summary>A member's refresh request; their token's issue time lets a removed member's old token be refused.</summary>
public sealed record RefreshRequest(string RoomId, string MemberId, string At, long TokenIssuedAtMs = 0);
