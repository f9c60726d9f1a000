namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// One hub call in the count <see cref="ReplicaDrain"/> waits on, resolved from the call's own DI scope and
/// counted until that scope is disposed. SignalR writes a call's answer (its completion, or its error) after the
/// hub filters have returned — a continuation that may wait for the thread pool — and disposes the call's scope
/// only once that write has finished; counting to the filter's return let the drain close the connection between
/// the two, and the answer of an applied write was lost. That order holds for non-streaming methods only (a streaming
/// call's scope goes before its last write, and it would hold the drain for the whole stream); RoomHub has none
/// (DESIGN.md §3), and <c>NoHubMethodStreams</c> fails if one is added.
/// </summary>
public sealed class DrainCountedCall(ReplicaDrain drain) : IDisposable
{
    private int _counted;

    /// <summary>Counts the call; false when draining (refuse the call).</summary>
    public bool TryBegin()
    {
        if (Volatile.Read(ref _counted) == 1)
        {
            return true; // counted once per call, however often asked: Dispose ends it once
        }

        if (!drain.TryBeginCall())
        {
            return false;
        }

        Volatile.Write(ref _counted, 1);
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _counted, 0) == 1)
        {
            drain.EndCall();
        }
    }
}
