using System.Buffers;
using System.Text.Json;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A JSON hub invocation nested deeper than SignalR's reader takes — its <c>Utf8JsonReader</c> keeps the default limit of 64
/// levels, the frame's own object and arguments array included — is still JSON, and still a call: read again without that
/// limit, it gives the invocation's id and target, so the call can be refused <c>invalid_argument</c> like MessagePack's
/// argument nested too deep, and the connection goes on (DESIGN.md §5: it survives every error a client can cause but a
/// malformed frame). A frame that is not JSON at any depth, not an invocation, or one SignalR refuses for anything besides its
/// arguments' depth (a field of the wrong shape) is not read here, and stays malformed.
/// </summary>
internal static class DeepJsonInvocation
{
    /// <summary>The depth of the deepest object or array SignalR's JSON reader can open (its limit of 64 levels, from 0).</summary>
    private const int DeepestReadable = 63;

    private const byte RecordSeparator = 0x1e;

    /// <summary>
    /// The invocation the first record of <paramref name="input"/> holds when it is one nested past SignalR's limit: its id
    /// (null for a call that wants no answer) and target; <paramref name="input"/> then starts after the record. False, and
    /// <paramref name="input"/> untouched, for anything else.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> input, out string? invocationId, out string target)
    {
        (invocationId, target) = (null, "");
        var records = new SequenceReader<byte>(input);
        if (!records.TryReadTo(out ReadOnlySequence<byte> record, RecordSeparator))
        {
            return false;
        }

        // Any depth the hub's largest message can hold (a level takes a byte at least).
        var reader = new Utf8JsonReader(record, new JsonReaderOptions { MaxDepth = int.MaxValue });
        int? type = null;
        int? deepest = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            // Each field as SignalR's own reader requires it: a frame it refuses for anything but its depth stays malformed.
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read(); // the value (a record cut short throws here, or below)
                switch (name)
                {
                    case "type" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number):
                        type = number;
                        break;
                    case "invocationId" when reader.TokenType == JsonTokenType.String:
                        invocationId = reader.GetString();
                        break;
                    case "target" when reader.TokenType == JsonTokenType.String:
                        target = reader.GetString() ?? "";
                        break;
                    case "arguments" when reader.TokenType == JsonTokenType.StartArray:
                        deepest = DeepestIn(ref reader);
                        break;
                    case "headers" when IsObjectOfStrings(ref reader):
                    case "streamIds" when IsArrayOfStrings(ref reader):
                        break;
                    case "type" or "invocationId" or "target" or "arguments" or "headers" or "streamIds":
                        return false; // a known field of the wrong shape
                    default:
                        reader.Skip(); // SignalR passes over a property it does not know
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON at any depth (JsonException), or a name or string that is not text (GetString): malformed. This runs in
            // the caller's exception filter, where anything thrown would be swallowed as "no".
            return false;
        }

        // An invocation (1), or a streaming one (4, refused all the same), whose arguments SignalR could not read for their depth.
        if (type is not (1 or 4) || target.Length == 0 || (type == 4 && invocationId is null) || deepest is not > DeepestReadable)
        {
            return false;
        }

        input = input.Slice(records.Position);
        return true;
    }

    private static bool IsObjectOfStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static bool IsArrayOfStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>The depth of the deepest object or array in the value at the reader, which it reads to its end.</summary>
    private static int DeepestIn(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return 0;
        }

        var start = reader.CurrentDepth;
        var deepest = start;
        while (reader.Read() && reader.CurrentDepth > start)
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                deepest = Math.Max(deepest, reader.CurrentDepth);
            }
        }

        return deepest;
    }
}
