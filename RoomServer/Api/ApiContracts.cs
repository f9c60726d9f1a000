using System.Text.Json;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// <c>POST /api/rooms</c>. Nullable members so a missing field gets a clear error, not a bind failure. A field
/// that may be left out has a default here: OpenAPI lists every constructor parameter without one as required.
/// </summary>
public sealed record CreateRoomRequest(string? Name, IReadOnlyList<MenuItemRequest>? Menu, int? TtlMinutes = null);

public sealed record MenuItemRequest(string? Id, string? Name, long? PriceMinor);

public sealed record RoomCreatedResponse(string RoomId, string Epoch);

/// <summary><c>POST /api/rooms/{roomId}/tokens</c>; without a role, a member's token.</summary>
public sealed record TokenRequest(string? MemberId, string? DisplayName, string? Role = null);

public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt);

/// <summary><c>POST /api/rooms/{roomId}/notices</c>: payload is any JSON value (left out: null).</summary>
public sealed record NoticeRequest(string? Kind, JsonElement? Payload = null);

/// <summary><c>PUT /api/rooms/{roomId}/state</c>.</summary>
public sealed record StateRequest(string? State);

/// <summary><c>POST /api/announcements</c>: a message to every connected client on every replica.</summary>
public sealed record AnnouncementRequest(string? Kind, string? Message);
