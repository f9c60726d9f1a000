namespace RoomShare.LoadTest.Hub;

/// <summary>
/// Receives what one connection's receive loop reads, on that loop's thread (so per-member state needs
/// no lock). Timestamps are Stopwatch ticks taken once per socket read.
/// </summary>
public interface IHubListener
{
    void OnRoomEvent(RoomEventWire roomEvent, long receivedAt);

    void OnJoined(JoinResultWire result);

    /// <summary>A completion of a SetChoice (the invocation id is its change id); hubError is the hub error, or null.</summary>
    void OnChangeCompleted(string invocationId, string? hubError, long receivedAt);

    /// <summary>The connection ended without the client closing it.</summary>
    void OnClosed(string reason);
}
