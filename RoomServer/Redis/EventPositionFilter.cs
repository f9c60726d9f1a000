using System.Buffers.Text;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Drops a room event already delivered (same epoch, version not above the last one). On a Redis
/// Cluster a failover can make the library restore a sharded subscription on a node that came back
/// as a replica while the backplane subscribed on the new master — and replicas deliver SPUBLISH
/// too, so each message would arrive twice. Clients ignore such events anyway (DESIGN.md §2); this
/// keeps the wire strictly +1. Reads <c>"epoch":"…"</c> and <c>"version":N</c> straight from the
/// script's JSON (prelude.lua writes both, in that order, at the start), without parsing the event.
/// Not thread-safe: one room's messages are delivered one at a time.
/// </summary>
internal sealed class EventPositionFilter
{
    private static ReadOnlySpan<byte> EpochProperty => "\"epoch\":\""u8;

    private static ReadOnlySpan<byte> VersionProperty => "\"version\":"u8;

    private byte[] _epoch = [];
    private long _version = -1;

    /// <summary>True for an event not delivered yet (or one whose position cannot be read: never dropped blindly).</summary>
    public bool IsNew(ReadOnlySpan<byte> json)
    {
        var epochAt = json.IndexOf(EpochProperty);
        var versionAt = json.IndexOf(VersionProperty);
        if (epochAt < 0 || versionAt < 0)
        {
            return true;
        }

        var epochStart = json[(epochAt + EpochProperty.Length)..];
        var epoch = epochStart[..Math.Max(0, epochStart.IndexOf((byte)'"'))];
        if (!Utf8Parser.TryParse(json[(versionAt + VersionProperty.Length)..], out long version, out _))
        {
            return true;
        }

        if (epoch.SequenceEqual(_epoch))
        {
            if (version <= _version)
            {
                return false;
            }
        }
        else
        {
            _epoch = epoch.ToArray();
        }

        _version = version;
        return true;
    }
}
