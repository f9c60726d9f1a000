using System.Text;
using System.Text.Json;
using MessagePack;

namespace RoomShare.RoomServer.Hubs.MessagePack;

/// <summary>
/// Carries JSON values over MessagePack one to one: an object becomes a map with the same (camelCase)
/// keys, an array an array, a number an integer when it is one (a uint64 above long's range too; else a
/// double, and a MessagePack float stays one), strings, booleans and
/// null themselves. So a MessagePack client sees exactly the shapes of DESIGN.md §3 that a JSON
/// client sees, and a room event that arrived as JSON is converted once, never re-modelled.
/// </summary>
internal static class JsonMessagePack
{
    /// <summary>Deeper input is refused: a hostile frame must not recurse the reader off the stack.</summary>
    private const int MaxDepth = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // The JSON only becomes a JsonElement in this process, never HTML: no need to escape non-ASCII.
    private static readonly JsonWriterOptions RelaxedWriter = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(ref MessagePackWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var _ in element.EnumerateObject())
                {
                    count++;
                }

                writer.WriteMapHeader(count);
                foreach (var property in element.EnumerateObject())
                {
                    writer.Write(property.Name);
                    Write(ref writer, property.Value);
                }

                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                {
                    Write(ref writer, item);
                }

                break;
            case JsonValueKind.String:
                writer.Write(element.GetString());
                break;
            case JsonValueKind.Number when element.TryGetInt64(out var integer):
                writer.Write(integer);
                break;
            case JsonValueKind.Number when element.TryGetUInt64(out var large):
                // Above long's range but whole: MessagePack's uint64 carries it exactly, as JSON's digits do.
                writer.Write(large);
                break;
            case JsonValueKind.Number:
                writer.Write(element.GetDouble());
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    /// <summary>Reads one MessagePack value as a JSON element (the hub binds arguments as JSON, whatever the protocol).</summary>
    public static JsonElement Read(ref MessagePackReader reader)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, RelaxedWriter))
        {
            Read(ref reader, json, depth: 0);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void Read(ref MessagePackReader reader, Utf8JsonWriter json, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new MessagePackSerializationException($"MessagePack value nested deeper than {MaxDepth}");
        }

        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                var properties = reader.ReadMapHeader();
                json.WriteStartObject();
                for (var i = 0; i < properties; i++)
                {
                    json.WritePropertyName(ReadKey(ref reader));
                    Read(ref reader, json, depth + 1);
                }

                json.WriteEndObject();
                break;
            case MessagePackType.Array:
                var items = reader.ReadArrayHeader();
                json.WriteStartArray();
                for (var i = 0; i < items; i++)
                {
                    Read(ref reader, json, depth + 1);
                }

                json.WriteEndArray();
                break;
            case MessagePackType.String:
                json.WriteStringValue(ReadText(ref reader));
                break;
            case MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64:
                json.WriteNumberValue(reader.ReadUInt64());
                break;
            case MessagePackType.Integer:
                json.WriteNumberValue(reader.ReadInt64());
                break;
            case MessagePackType.Float:
                WriteFloat(json, reader.ReadDouble());
                break;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            default:
                // Binary and extension values have no JSON shape in the contract. Refused, not read as null:
                // null is a valid opId ("none", so a retry would apply twice) and a valid since (a fresh join).
                throw new MessagePackSerializationException($"a MessagePack {reader.NextMessagePackType} value is not one of the contract's shapes (string, number, boolean, nil, array, map)");
        }
    }

    /// <summary>
    /// A float stays a float: 2.0 is written "2.0", not "2", so where an integer is expected it is refused
    /// as JSON's 2.0 is (a quantity of 2.0 is <c>invalid_quantity</c> either way). NaN and the infinities
    /// have no JSON form.
    /// </summary>
    private static void WriteFloat(Utf8JsonWriter json, double number)
    {
        if (!double.IsFinite(number))
        {
            throw new MessagePackSerializationException("NaN and the infinities are not numbers of the contract");
        }

        var text = number.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        json.WriteRawValue(text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0", skipInputValidation: true);
    }

    private static string ReadKey(ref MessagePackReader reader) =>
        reader.NextMessagePackType == MessagePackType.String
            ? ReadText(ref reader)
            : throw new MessagePackSerializationException("MessagePack map keys must be strings");

    /// <summary>
    /// A string's UTF-8 bytes as text, or refused when they are not UTF-8: the reader's own decoding puts
    /// U+FFFD in their place, so a value JSON refuses as not text (an escaped lone surrogate) came through
    /// MessagePack as some other string (DESIGN.md §3: every string a client sends must be text).
    /// </summary>
    private static string ReadText(ref MessagePackReader reader)
    {
        var bytes = reader.ReadStringSequence() ?? default;
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new MessagePackSerializationException("a MessagePack string that is not UTF-8 text");
        }
    }
}
