using System.Buffers.Text;

namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Reads an event's position, <c>"epoch":"…"</c> and <c>"version":N</c>, straight from the event JSON the
/// scripts publish (prelude.lua writes both near the start), without parsing the event: the fan-out's hot
/// path reads it once per room message.
/// </summary>
internal static class EventPositionJson
{
    private static ReadOnlySpan<byte> EpochProperty => "\"epoch\":\""u8;

    private static ReadOnlySpan<byte> VersionProperty => "\"version\":"u8;

    /// <summary>False when either field is missing or unreadable.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out ReadOnlySpan<byte> epoch, out long version)
    {
        epoch = default;
        version = 0;
        var epochAt = json.IndexOf(EpochProperty);
        var versionAt = json.IndexOf(VersionProperty);
        if (epochAt < 0 || versionAt < 0)
        {
            return false;
        }

        var epochStart = json[(epochAt + EpochProperty.Length)..];
        var epochEnd = epochStart.IndexOf((byte)'"');
        if (epochEnd < 0)
        {
            return false;
        }

        epoch = epochStart[..epochEnd];
        return Utf8Parser.TryParse(json[(versionAt + VersionProperty.Length)..], out version, out _);
    }
}
