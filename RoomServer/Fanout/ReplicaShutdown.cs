namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// When the replica's own background work stops: once its drain is over (<see cref="ReplicaDrain"/>, DESIGN.md §9),
/// not when the host begins to stop. The drain runs inside <c>ApplicationStopping</c>, whose token is cancelled for all
/// of it, while members are still connected and reading: what serves them — closing a removed member's connections,
/// the catch-up on missed removals, the removal channel, the presence sweeps — keeps going until the drain has closed
/// them, and stops with it.
/// </summary>
public sealed class ReplicaShutdown : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled once the drain is over.</summary>
    public CancellationToken Token => _stopping.Token;

    /// <summary>The drain is over: background work stops.</summary>
    public void Stop() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}
