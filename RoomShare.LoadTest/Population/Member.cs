using RoomShare.LoadTest.Hub;

namespace RoomShare.LoadTest.Population;

/// <summary>
/// One simulated member: its token, its connection, and its position in the room. Its listener methods
/// run on its own connection's receive loop, so the position needs no lock.
/// </summary>
public sealed class Member(string roomId, int room, int index, string memberId, string token, DeliveryTracker tracker) : IHubListener
{
    private long _lastVersion = -1;
    private long _preJoinMax = -1;
    private volatile bool _joined;

    public string RoomId { get; } = roomId;

    /// <summary>The room's index in its population.</summary>
    public int Room { get; } = room;

    /// <summary>The member's index within its room (its column in a change ledger).</summary>
    public int Index { get; } = index;

    public string MemberId { get; } = memberId;

    public string Token { get; } = token;

    public LeanHubConnection? Connection { get; set; }

    /// <summary>The replica that answered Join (JoinResult.replica).</summary>
    public string? Replica { get; private set; }

    /// <summary>The largest quantity the answering replica takes (its snapshot's <c>maxQuantity</c>), if it said.</summary>
    public int? MaxQuantity { get; private set; }

    /// <summary>Forgets the previous connection's position before this member connects again (W3 reuses members).</summary>
    public void Reset()
    {
        _joined = false;
        _preJoinMax = -1;
        _lastVersion = -1;
        Connection = null;
    }

    public void OnJoined(JoinResultWire result)
    {
        _lastVersion = Math.Max(result.Position.Version, _preJoinMax);
        Replica = result.Replica;
        MaxQuantity = result.Snapshot?.MaxQuantity ?? MaxQuantity;
        _joined = true;
    }

    public void OnRoomEvent(RoomEventWire roomEvent, long receivedAt)
    {
        if (!_joined)
        {
            // Live events may arrive around a Join whose result covers them (DESIGN.md §2).
            _preJoinMax = Math.Max(_preJoinMax, roomEvent.Version);
            return;
        }

        tracker.OnRoomEvent(this, roomEvent, ref _lastVersion, receivedAt);
    }

    public void OnChangeCompleted(string invocationId, string? hubError, long receivedAt) =>
        tracker.OnChangeCompleted(invocationId, hubError, receivedAt);

    public void OnClosed(string reason)
    {
        _joined = false;
        tracker.OnConnectionClosed(reason);
    }
}
