using System.Buffers;
using System.Text.Json;

namespace RoomShare.Floor;

/// <summary>
/// The SignalR JSON frames the floor writes (the same shapes RoomShare's hub writes, each record ended
/// by 0x1E): the handshake reply, completions for Join and SetChoice, and RoomEvent invocations.
/// </summary>
public static class FloorFrames
{
    private const byte RecordSeparator = 0x1e;
    private const int CompletionType = 3;
    private const int InvocationType = 1;

    public static readonly byte[] HandshakeOk = [(byte)'{', (byte)'}', RecordSeparator];

    /// <summary>Join's result: position, no snapshot, nothing missed (the floor keeps no history).</summary>
    public static byte[] JoinResult(string invocationId, string epoch, long version) => Write(writer =>
    {
        StartCompletion(writer, invocationId);
        writer.WriteStartObject("result");
        writer.WriteStartObject("position");
        writer.WriteString("epoch", epoch);
        writer.WriteNumber("version", version);
        writer.WriteEndObject();
        writer.WriteNull("snapshot");
        writer.WriteStartArray("missed");
        writer.WriteEndArray();
        writer.WriteString("replica", "floor");
        writer.WriteEndObject();
    });

    public static byte[] ChoiceAck(string invocationId, long version, int quantity) => Write(writer =>
    {
        StartCompletion(writer, invocationId);
        writer.WriteStartObject("result");
        writer.WriteNumber("version", version);
        writer.WriteNumber("quantity", quantity);
        writer.WriteEndObject();
    });

    public static byte[] Error(string invocationId, string message) => Write(writer =>
    {
        StartCompletion(writer, invocationId);
        writer.WriteString("error", message);
    });

    /// <summary>A <c>choice</c> RoomEvent with every field of RoomShare's event present (unused ones null).</summary>
    public static byte[] ChoiceEvent(string roomId, string epoch, long version, string memberId, string menuId, int quantity, string? opId) =>
        Write(writer =>
        {
            writer.WriteNumber("type", InvocationType);
            writer.WriteString("target", "RoomEvent");
            writer.WriteStartArray("arguments");
            writer.WriteStartObject();
            writer.WriteString("roomId", roomId);
            writer.WriteString("epoch", epoch);
            writer.WriteNumber("version", version);
            writer.WriteString("type", "choice");
            writer.WriteString("at", DateTimeOffset.UtcNow.ToString("O"));
            writer.WriteString("memberId", memberId);
            writer.WriteNull("displayName");
            writer.WriteString("menuId", menuId);
            writer.WriteNumber("quantity", quantity);
            writer.WriteString("opId", opId);
            writer.WriteNull("state");
            writer.WriteNull("by");
            writer.WriteNull("kind");
            writer.WriteNull("payload");
            writer.WriteEndObject();
            writer.WriteEndArray();
        });

    private static void StartCompletion(Utf8JsonWriter writer, string invocationId)
    {
        writer.WriteNumber("type", CompletionType);
        writer.WriteString("invocationId", invocationId);
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        buffer.Write([RecordSeparator]);
        return buffer.WrittenSpan.ToArray();
    }
}
