namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The restore ticks of each room (<see cref="RoomTicker"/>): at most one waiting for its slot and one running. While
/// the store is away the backplane re-subscribes every few seconds and says "restored" after each pass, answered or
/// not; a tick per room per pass, each waiting for a slot of a four-slot lane, piled up for as long as the outage
/// lasted, then ran in a burst against the store that had just come back, each resending every member's presence.
/// A restore heard while a room's tick waits is covered by that tick, which reads the room after it; one heard while
/// the tick runs (it may have read the room before) asks for one more run after it.
/// </summary>
public sealed class PendingRestores
{
    private enum Stage
    {
        Waiting,
        Running,
        RunningAndAskedAgain,
    }

    private readonly Dictionary<string, Stage> _rooms = new(StringComparer.Ordinal);

    /// <summary>A restore of the room was heard: true when the caller is to start its tick (none waits already).</summary>
    public bool Request(string roomId)
    {
        lock (_rooms)
        {
            if (!_rooms.TryGetValue(roomId, out var stage))
            {
                _rooms[roomId] = Stage.Waiting;
                return true;
            }

            if (stage == Stage.Running)
            {
                _rooms[roomId] = Stage.RunningAndAskedAgain;
            }

            return false;
        }
    }

    /// <summary>The room's tick has its slot and reads the room from now on: a restore heard from now on asks for another.</summary>
    public void Started(string roomId)
    {
        lock (_rooms)
        {
            _rooms[roomId] = Stage.Running;
        }
    }

    /// <summary>The room's tick is over: true when it is to run once more (a restore was heard while it ran).</summary>
    public bool Ended(string roomId)
    {
        lock (_rooms)
        {
            if (_rooms.TryGetValue(roomId, out var stage) && stage == Stage.RunningAndAskedAgain)
            {
                _rooms[roomId] = Stage.Waiting;
                return true;
            }

            _rooms.Remove(roomId);
            return false;
        }
    }
}
