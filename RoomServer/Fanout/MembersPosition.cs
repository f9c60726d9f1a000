using System.Text;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The furthest position of a room whose event this replica has written to all of the room's local members
/// (or kept for those still joining, who get it when their Join is admitted). A member that joins later has a
/// Join result at least as far on: the event was published before its Join read the store. So while the room's
/// position is no further than this, a tick's <c>Position</c> tells every member what it already has, and the
/// tick may leave it out (<see cref="MaySkip"/>) — but not more than <see cref="SkippedTicksAtMost"/> ticks in a
/// row: a client that knew it was behind and whose catch-up failed (a web client out of Join rounds, say) hears
/// the room's position again at the tick after those, at most 30 s later at the default interval. Every tick
/// that reaches the position counts, a grace sweep's too, so it may come sooner; a tick whose sweep failed
/// reaches none.
/// A <c>Position</c> sent is not recorded: the member it was for may be behind.
/// </summary>
internal sealed class MembersPosition
{
    /// <summary>A covered position is still sent at the tick after this many were left out (at most 30 s apart at the default 5 s ticks).</summary>
    public const int SkippedTicksAtMost = 5;

    private readonly Lock _lock = new();
    private byte[] _epochUtf8 = [];
    private string? _epoch;
    private long _version = -1;
    private int _skippedTicks;

    /// <summary>An event written to the members, from its channel JSON (ignored when its position cannot be read).</summary>
    public void Delivered(ReadOnlySpan<byte> eventJson)
    {
        if (!EventPositionJson.TryRead(eventJson, out var epoch, out var version))
        {
            return;
        }

        lock (_lock)
        {
            // A new epoch (a failover) is rare, so its text is made only then.
            var sameEpoch = epoch.SequenceEqual(_epochUtf8);
            Advance(sameEpoch ? null : Encoding.UTF8.GetString(epoch), sameEpoch ? null : epoch.ToArray(), version);
        }
    }

    /// <summary>An event written to the members, as embedded mode's backplane hands it over.</summary>
    public void Delivered(string epoch, long version)
    {
        lock (_lock)
        {
            var sameEpoch = string.Equals(epoch, _epoch, StringComparison.Ordinal);
            Advance(sameEpoch ? null : epoch, sameEpoch ? null : Encoding.UTF8.GetBytes(epoch), version);
        }
    }

    /// <summary>
    /// Whether a tick may leave this position out: every member had it as an event, and fewer than
    /// <see cref="SkippedTicksAtMost"/> ticks have left one out since the members were last told the room's position.
    /// </summary>
    public bool MaySkip(RoomPosition position)
    {
        lock (_lock)
        {
            var covered = string.Equals(position.Epoch, _epoch, StringComparison.Ordinal) && position.Version <= _version;
            if (covered && _skippedTicks < SkippedTicksAtMost)
            {
                _skippedTicks++;
                return true;
            }

            _skippedTicks = 0;
            return false;
        }
    }

    /// <summary>
    /// Forgets what was delivered, so every tick sends the position until the next event: after the backplane was
    /// restored, when what was published while it could not hear may be behind what it heard since.
    /// </summary>
    public void Forget()
    {
        lock (_lock)
        {
            (_epochUtf8, _epoch, _version, _skippedTicks) = ([], null, -1, 0);
        }
    }

    /// <summary>
    /// Under the lock: a new epoch (both forms given) starts over; in the same one the version only rises. An event
    /// that moved the position told the members where the room is, so the skip count starts over; an older one did not.
    /// </summary>
    private void Advance(string? newEpoch, byte[]? newEpochUtf8, long version)
    {
        if (newEpoch is not null && newEpochUtf8 is not null)
        {
            (_epoch, _epochUtf8, _version, _skippedTicks) = (newEpoch, newEpochUtf8, version, 0);
        }
        else if (version > _version)
        {
            (_version, _skippedTicks) = (version, 0);
        }
    }
}
