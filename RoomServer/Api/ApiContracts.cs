using System.Text.Json;

namespace RoomShare.RoomServer.Api;

/// <summary><c>POST /api/rooms</c>. Nullable members so a missing field gets a clear error, not a bind failure.</summary>
public sealed record CreateRoomRequest(string? Name, IReadOnlyList<MenuItemRequest>? Menu, int? TtlMinutes);

public sealed record MenuItemRequest(string? Id, string? Name, long? PriceMinor);

public sealed record RoomCreatedResponse(string RoomId, string Epoch);

/// <summary><c>POST /api/rooms/{roomId}/tokens</c>.</summary>
public sealed record TokenRequest(string? MemberId, string? DisplayName, string? Role);

public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt);

/// <summary><c>POST /api/rooms/{roomId}/notices</c>: payload is any JSON value.</summary>
public sealed record NoticeRequest(string? Kind, JsonElement? Payload);

/// <summary><c>PUT /api/rooms/{roomId}/state</c>.</summary>
public sealed record StateRequest(string? State);

/// <summary><c>POST /api/announcements</c>: a message to every connected client on every replica.</summary>
public sealed record AnnouncementRequest(string? Kind, string? Message);
