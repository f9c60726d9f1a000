using System.Diagnostics.CodeAnalysis;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// When the replica's own background work stops: once its drain is over (<see cref="ReplicaDrain"/>, DESIGN.md §9),
/// not when the host begins to stop. The drain runs inside <c>ApplicationStopping</c>, whose token is cancelled for all
/// of it, while members are still connected and reading: what serves them — closing a removed member's connections,
/// the catch-up on missed removals, the removal channel, the presence sweeps — keeps going until the drain has closed
/// them, and stops with it.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "Never disposed, as the host's own lifetime tokens are not: work that outlives the host (a sweep the shutdown timeout cut short) may still read the token, and a source without a timer holds nothing to release.")]
public sealed class ReplicaShutdown
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled once the drain is over.</summary>
    public CancellationToken Token => _stopping.Token;

    /// <summary>The drain is over: background work stops. Idempotent.</summary>
    public void Stop() => _stopping.Cancel();
}
