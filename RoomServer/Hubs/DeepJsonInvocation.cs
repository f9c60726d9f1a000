using System.Buffers;
using System.Text.Json;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A JSON hub invocation nested deeper than SignalR's reader takes — its <c>Utf8JsonReader</c> keeps the default limit of 64
/// levels, the frame's own object and arguments array included — is still JSON, and still a call: read again without that
/// limit, it gives the invocation's id and target, so the call can be refused <c>invalid_argument</c> like MessagePack's
/// argument nested too deep, and the connection goes on (DESIGN.md §5: it survives every error a client can cause but a
/// malformed frame). A frame that is not JSON at any depth, or not an invocation, is not read here and stays malformed.
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
        var deepest = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "type" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var t):
                        type = t;
                        break;
                    case "invocationId" when reader.TokenType == JsonTokenType.String:
                        invocationId = reader.GetString();
                        break;
                    case "target" when reader.TokenType == JsonTokenType.String:
                        target = reader.GetString() ?? "";
                        break;
                    default:
                        deepest = Math.Max(deepest, DeepestIn(ref reader));
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false; // not JSON at any depth: malformed
        }

        if (type != 1 || target.Length == 0 || deepest <= DeepestReadable)
        {
            return false; // not an invocation, or not refused for its depth: SignalR's own error stands
        }

        input = input.Slice(records.Position);
        return true;
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
