using System.Text.Json;

namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// A versioned room event (DESIGN.md §3). One flat shape for every type, so history, the backplane
/// and the wire all carry the same JSON; fields a type does not use are present as null.
/// The Redis scripts write this exact shape (see Redis/Scripts/prelude.lua) — keep them in step.
/// </summary>
/// <param name="RoomId">The room.</param>
/// <param name="Epoch">The room's epoch.</param>
/// <param name="Version">Strictly +1 per event within an epoch.</param>
/// <param name="Type">One of <see cref="RoomEventTypes"/>.</param>
/// <param name="At">ISO-8601 UTC time the writing replica accepted the change.</param>
/// <param name="MemberId"><c>member</c> and <c>choice</c>: the member.</param>
/// <param name="DisplayName"><c>member</c>: the member's display name.</param>
/// <param name="MenuId"><c>choice</c>: the menu item.</param>
/// <param name="Quantity"><c>choice</c>: the member's new quantity of the item (0 = removed).</param>
/// <param name="OpId"><c>choice</c>: the client's operation id, if it sent one.</param>
/// <param name="State"><c>state</c>: the new state (or <c>deleted</c>).</param>
/// <param name="By"><c>state</c> and <c>refresh</c>: the member id, or <c>api</c>.</param>
/// <param name="Kind"><c>notice</c>: the notice kind.</param>
/// <param name="Payload"><c>notice</c>: any JSON value.</param>
public sealed record RoomEvent(
    string RoomId,
    string Epoch,
    long Version,
    string Type,
    string At,
    string? MemberId = null,
    string? DisplayName = null,
    string? MenuId = null,
    int? Quantity = null,
    string? OpId = null,
    string? State = null,
    string? By = null,
    string? Kind = null,
    JsonElement? Payload = null);
