using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// Everything <see cref="HistoryChecker"/> judges, gathered once the faults have healed and the
/// clients have caught up: the ops attempted, each room's final state (Redis and the replicas'
/// snapshots), each client's view, the secrets handed out and the logs written. Plain data, so the
/// checker can be tested on hand-made evidence that breaks each property.
/// </summary>
public sealed record HistoryEvidence(
    IReadOnlyList<OpRecord> Ops,
    IReadOnlyList<RoomFinalState> Rooms,
    IReadOnlyList<ClientView> Clients,
    IReadOnlyList<string> Secrets,
    IReadOnlyList<LogText> Logs);

/// <summary>
/// One room at the end: <see cref="Version"/> (<c>HGET rs:{id}:meta version</c>), its whole history
/// (its audit trail, <c>XRANGE rs:{id}:audit</c>, oldest first), the remembered op results (<c>HGETALL rs:{id}:ops</c>,
/// "member:opId" → "version:quantity"), the choices (<c>HGETALL rs:{id}:choices</c>, "member:menu" →
/// quantity), the menu's prices as the test created them, and the room's snapshot as replicas serve it.
/// </summary>
public sealed record RoomFinalState(
    string RoomId,
    long Version,
    IReadOnlyList<RoomEvent> Events,
    IReadOnlyDictionary<string, string> Ops,
    IReadOnlyDictionary<string, int> Choices,
    IReadOnlyDictionary<string, long> Prices,
    IReadOnlyList<SnapshotView> Snapshots);

/// <summary>A room snapshot and who served it (e.g. "GET /api/rooms/{id} on r2").</summary>
public sealed record SnapshotView(string Source, RoomSnapshot Snapshot);

/// <summary>
/// What one client ended with: the version of its first fresh Join, its position, every version it
/// applied (in order), and its choices ("member:menu" → quantity).
/// </summary>
public sealed record ClientView(
    string Client,
    string RoomId,
    long FirstVersion,
    long Version,
    IReadOnlyList<long> Applied,
    IReadOnlyDictionary<string, int> Choices);

/// <summary>A log's text and where it came from (a replica's stdout+stderr, nginx's access log...).</summary>
public sealed record LogText(string Source, string Text);

/// <summary>The properties the checker verifies; each violation names one.</summary>
public enum HistoryProperty
{
    /// <summary>Every acknowledged op is remembered with its ack, and its event (if it changed anything) carries it.</summary>
    AcknowledgedPresent,

    /// <summary>No op the server refused left a trace (unless a later attempt with its opId could have).</summary>
    FailedNotApplied,

    /// <summary>No opId was applied twice, and two acks of one opId agree (unknown ops included).</summary>
    AppliedAtMostOnce,

    /// <summary>Each room's history is 1..version with no gap; each client applied every version after its first Join exactly once.</summary>
    VersionsDense,

    /// <summary>Replaying the history gives the choices Redis holds.</summary>
    StateReplaysHistory,

    /// <summary>Every client and every replica's snapshot ends at the room's version with Redis's choices.</summary>
    ClientsConverge,

    /// <summary>Snapshot totals = Σ choices × price, per item and overall.</summary>
    TotalsMatch,

    /// <summary>No token, API key or signing key appears in any log.</summary>
    NoSecretInLogs,
}

public sealed record Violation(HistoryProperty Property, string Detail)
{
    public override string ToString() => $"{Property}: {Detail}";
}
