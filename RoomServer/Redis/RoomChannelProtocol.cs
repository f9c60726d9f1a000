using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The wire format of a room channel, written by the Lua scripts (Scripts/prelude.lua):
/// <c>E{RoomEvent JSON}</c> for a versioned event, <c>P{PresenceChange JSON}</c> for presence, and
/// <c>H{nonce}</c> for a replica's subscription probe (ignored by every other replica).
/// History entries are the event JSON without the prefix. JSON is camelCase, every field present.
/// </summary>
public static class RoomChannelProtocol
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const char ProbePrefix = 'H';

    public static bool IsProbe(string message) => message.Length > 0 && message[0] == ProbePrefix;

    public static BackplaneMessage? Parse(string message)
    {
        if (message.Length < 2)
        {
            return null;
        }

        var json = message.AsSpan(1);
        return message[0] switch
        {
            'E' => JsonSerializer.Deserialize<RoomEvent>(json, Json) is { } e ? new RoomEventMessage(e) : null,
            'P' => JsonSerializer.Deserialize<PresenceChange>(json, Json) is { } p ? new PresenceMessage(p) : null,
            _ => null,
        };
    }

    public static RoomEvent ParseHistoryEntry(string json) =>
        JsonSerializer.Deserialize<RoomEvent>(json, Json) ?? throw new JsonException("empty history entry");
}
