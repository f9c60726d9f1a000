namespace RoomShare.Floor;

/// <summary>
/// One room: its version and its connected members. A change takes the room's lock, numbers the
/// event, serializes it once and queues the same bytes to every member, so each member's queue
/// holds events in version order (the same guarantee RoomShare's channel gives).
/// </summary>
public sealed class FloorRoom(string roomId, string epoch)
{
    private readonly Lock _gate = new();
    private readonly List<FloorConnection> _members = [];
    private long _version;

    public string RoomId { get; } = roomId;

    public string Epoch { get; } = epoch;

    /// <summary>Adds the connection and returns the room's version at that moment.</summary>
    public long Join(FloorConnection connection)
    {
        lock (_gate)
        {
            if (!_members.Contains(connection))
            {
                _members.Add(connection);
            }

            return _version;
        }
    }

    public void Leave(FloorConnection connection)
    {
        lock (_gate)
        {
            _members.Remove(connection);
        }
    }

    /// <summary>Applies a choice: the next version, the event to every member, the ack to the caller.</summary>
    public void SetChoice(FloorConnection caller, string invocationId, string memberId, string menuId, int quantity, string? opId)
    {
        lock (_gate)
        {
            var version = ++_version;
            caller.Enqueue(FloorFrames.ChoiceAck(invocationId, version, quantity));
            var roomEvent = FloorFrames.ChoiceEvent(RoomId, Epoch, version, memberId, menuId, quantity, opId);
            foreach (var member in _members)
            {
                member.Enqueue(roomEvent);
            }
        }
    }
}
