using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Reads hub arguments. The hub takes <see cref="JsonElement"/> parameters so that a wrong JSON type
/// (a string quantity, a number room id) reaches this code and gets a §5 error, instead of failing
/// in SignalR's binder with a message that carries no code. The rules themselves live in Rooms/
/// (RoomIds, RoomStates): a wrong JSON type is refused like any other invalid value.
/// </summary>
public static class HubArguments
{
    public static string RoomId(JsonElement value) => RoomIds.RequireRoomId(StringOrNull(value, "roomId"));

    /// <summary>A string; one that cannot be a menu id is simply not on the menu.</summary>
    public static string MenuId(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw RoomException.Invalid("menuId must be a string");
        }

        var menuId = JsonText.RequireText(value, "menuId");
        return RoomIds.IsValidMenuId(menuId) ? menuId : throw RoomException.NotOnMenu();
    }

    /// <summary>
    /// A whole number; anything else is <c>invalid_quantity</c> (a non-number is <c>invalid_argument</c>).
    /// One past <see cref="int"/>'s range saturates to its end: a delta's result is clamped anyway (DESIGN.md §3,
    /// "±n"), and a quantity that large is refused by its range check, with a message that says the range.
    /// </summary>
    public static int WholeNumber(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw RoomException.Invalid($"{name} must be a number");
        }

        if (value.TryGetInt32(out var number))
        {
            return number;
        }

        var text = value.GetRawText();
        return IsIntegerLiteral(text)
            ? text[0] == '-' ? int.MinValue : int.MaxValue
            : throw new RoomException(RoomErrorCodes.InvalidQuantity, $"{name} must be a whole number");
    }

    /// <summary>JSON's integer form (no fraction, no exponent): how a client writes a whole number.</summary>
    private static bool IsIntegerLiteral(string number) =>
        number.AsSpan(number.StartsWith('-') ? 1 : 0) is { Length: > 0 } digits && !digits.ContainsAnyExceptInRange('0', '9');

    public static string MemberId(JsonElement value) => RoomIds.RequireMemberId(StringOrNull(value, "memberId"));

    /// <summary>Whether the argument is a well-formed opId (not null).</summary>
    public static bool IsValidOpId(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && RoomIds.IsValidOpId(JsonText.TextOrNull(value));

    public static string? OpId(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String when IsValidOpId(value) => value.GetString(),
        _ => throw RoomException.Invalid("opId must be null or 1-64 printable ASCII characters without spaces"),
    };

    /// <summary><c>since</c>: null for a fresh join, or <c>{ epoch: string, version: integer ≥ 0 }</c>.</summary>
    public static RoomPosition? Since(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            // Its property names too: looking one up unescapes the others, and one that is not text throws.
            JsonText.RequireWritable(value, "since");
        }

        if (value.ValueKind == JsonValueKind.Object
            && value.TryGetProperty("epoch", out var epoch) && epoch.ValueKind == JsonValueKind.String
            && value.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number
            && version.TryGetInt64(out var number) && number >= 0
            && JsonText.TextOrNull(epoch) is { Length: > 0 and <= 64 } epochText)
        {
            return new RoomPosition(epochText, number);
        }

        throw RoomException.Invalid("since must be null or { epoch: string, version: integer >= 0 }");
    }

    public static string State(JsonElement value) => RoomStates.RequireSettable(StringOrNull(value, "state"));

    /// <summary>The string; null for another JSON type. Not valid text is <c>invalid_argument</c>.</summary>
    private static string? StringOrNull(JsonElement value, string name) => value.ValueKind == JsonValueKind.String ? JsonText.RequireText(value, name) : null;
}
