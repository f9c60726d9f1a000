using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The wire format of a room channel, written by the Lua scripts (Scripts/prelude.lua):
/// <c>E{RoomEvent JSON}</c> for a versioned event, <c>P{PresenceChange JSON}</c> for presence, and
/// <c>H{nonce}</c> for a replica's subscription probe (ignored by every other replica).
/// The audit trail's entries (field <c>e</c>) are the event JSON without the prefix. JSON is camelCase, every field present.
/// </summary>
public static class RoomChannelProtocol
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const char ProbePrefix = 'H';

    public static bool IsProbe(ReadOnlySpan<byte> message) => message.Length > 0 && message[0] == (byte)ProbePrefix;

    /// <summary>
    /// Reads a channel message without materialising it: the kind from its prefix, and the JSON after
    /// it, checked to be one well-formed object (a forwarded fragment would break the clients' framing).
    /// Null for anything else.
    /// </summary>
    public static EncodedRoomMessage? Read(string roomId, ReadOnlyMemory<byte> message)
    {
        if (message.Length < 3)
        {
            return null;
        }

        RoomMessageKind? kind = message.Span[0] switch
        {
            (byte)'E' => RoomMessageKind.Event,
            (byte)'P' => RoomMessageKind.Presence,
            _ => null,
        };
        var json = message[1..];
        return kind is { } k && IsOneObject(json.Span) ? new EncodedRoomMessage(roomId, k, json) : null;
    }

    public static RoomEvent ParseStoredEvent(string json) =>
        JsonSerializer.Deserialize<RoomEvent>(json, Json) ?? throw new JsonException("empty stored event");

    private static bool IsOneObject(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        reader.Skip();
        return !reader.Read();
    }
}
