using System.Text;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The furthest position of a room whose event this replica has written to all of the room's local members
/// (or kept for those still joining, who get it when their Join is admitted). A member that joins later has a
/// Join result at least as far on: the event was published before its Join read the store. So while the room's
/// position is no further than this, a tick's <c>Position</c> would tell every member what it already has.
/// A <c>Position</c> sent is not recorded here: the member it was for may be behind, and if its catch-up
/// fails, the next tick's <c>Position</c> is what makes it try again.
/// </summary>
internal sealed class MembersPosition
{
    private readonly Lock _lock = new();
    private byte[] _epochUtf8 = [];
    private string? _epoch;
    private long _version = -1;

    /// <summary>An event written to the members, from its channel JSON (ignored when its position cannot be read).</summary>
    public void Delivered(ReadOnlySpan<byte> eventJson)
    {
        if (!EventPositionJson.TryRead(eventJson, out var epoch, out var version))
        {
            return;
        }

        lock (_lock)
        {
            if (!epoch.SequenceEqual(_epochUtf8))
            {
                // A new epoch (a failover) starts over; rare, so its text is made only then.
                _epochUtf8 = epoch.ToArray();
                _epoch = Encoding.UTF8.GetString(epoch);
                _version = version;
            }
            else if (version > _version)
            {
                _version = version;
            }
        }
    }

    /// <summary>An event written to the members, as embedded mode's backplane hands it over.</summary>
    public void Delivered(string epoch, long version)
    {
        lock (_lock)
        {
            if (!string.Equals(epoch, _epoch, StringComparison.Ordinal))
            {
                _epochUtf8 = Encoding.UTF8.GetBytes(epoch);
                _epoch = epoch;
                _version = version;
            }
            else if (version > _version)
            {
                _version = version;
            }
        }
    }

    /// <summary>Whether every member already has this position: the same epoch, and a version delivered.</summary>
    public bool Covers(RoomPosition position)
    {
        lock (_lock)
        {
            return string.Equals(position.Epoch, _epoch, StringComparison.Ordinal) && position.Version <= _version;
        }
    }
}
