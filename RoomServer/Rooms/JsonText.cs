using System.Text.Json;

namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Reading client JSON that the parser accepted but that cannot be text: an escaped lone surrogate
/// (<c>"\ud800"</c>) or bytes that are not UTF-8 pass parsing and binding, and fail only when the value
/// is read as a string or written out again — later, on every reader of the room. They are refused
/// where they come in, as <c>invalid_argument</c> (DESIGN.md §5).
/// </summary>
public static class JsonText
{
    /// <summary>How deep a notice payload's arrays and objects may nest: written into events, pages and replays, it sits a few levels deeper than sent, and JSON writers stop at 64.</summary>
    public const int MaxPayloadDepth = 32;

    /// <summary>The string, or <c>invalid_argument</c> naming <paramref name="name"/> when it is not valid text.</summary>
    public static string RequireText(JsonElement value, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw NotText(name);
        }
    }

    /// <summary>The string; null when it is not valid text (for checks whose own error says what is expected).</summary>
    public static string? TextOrNull(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Refuses a payload that could not be written out again: a string or property name that is not
    /// valid text, a number no 64-bit float holds (MessagePack members get a number that is not a whole 64-bit integer
    /// as one, and <c>1e400</c> would reach them as an infinity, which no JSON can say), or nesting deeper than
    /// <see cref="MaxPayloadDepth"/>.
    /// </summary>
    public static void RequireWritable(JsonElement value, string name) => RequireWritable(value, name, depth: 1);

    // depth: how many arrays and objects hold the value, itself included if it is one.
    private static void RequireWritable(JsonElement value, string name, int depth)
    {
        if (value.ValueKind is JsonValueKind.Array or JsonValueKind.Object && depth > MaxPayloadDepth)
        {
            throw RoomException.Invalid($"{name} must nest at most {MaxPayloadDepth} arrays or objects deep");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                RequireText(value, name);
                break;
            case JsonValueKind.Number when !value.TryGetInt64(out _) && !value.TryGetUInt64(out _) && !(value.TryGetDouble(out var number) && double.IsFinite(number)):
                throw RoomException.Invalid($"{name} holds a number out of a 64-bit float's range (at most ±1.7976931348623157e308)");
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    RequireWritable(item, name, depth + 1);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    PropertyName(property, name);
                    RequireWritable(property.Value, name, depth + 1);
                }

                break;
        }
    }

    private static void PropertyName(JsonProperty property, string name)
    {
        try
        {
            _ = property.Name;
        }
        catch (InvalidOperationException)
        {
            throw NotText(name);
        }
    }

    private static RoomException NotText(string name) =>
        RoomException.Invalid($"{name} must be valid text (UTF-8, no lone surrogate escapes such as \\ud800)");
}
