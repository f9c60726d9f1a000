using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Drops a room event already delivered (same epoch, version not above the last one). On a Redis
/// Cluster a failover can make the library restore a sharded subscription on a node that came back
/// as a replica while the backplane subscribed on the new master — and replicas deliver SPUBLISH
/// too, so each message would arrive twice. Clients ignore such events anyway (DESIGN.md §2); this
/// keeps the wire strictly +1, and the backplane takes an event dropped here as its cue to make
/// the room's subscription again with the copy unsubscribed (RedisBackplane.ReseatHeardTwice).
/// Reads the position straight from the script's JSON (<see cref="EventPositionJson"/>).
/// Not thread-safe: one room's messages are delivered one at a time.
/// </summary>
internal sealed class EventPositionFilter
{
    private byte[] _epoch = [];
    private long _version = -1;

    /// <summary>True for an event not delivered yet (or one whose position cannot be read: never dropped blindly).</summary>
    public bool IsNew(ReadOnlySpan<byte> json)
    {
        if (!EventPositionJson.TryRead(json, out var epoch, out var version))
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
