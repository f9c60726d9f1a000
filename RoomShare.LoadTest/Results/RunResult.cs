using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Results;

/// <summary>Everything one arm measured.</summary>
public sealed record ArmResult(
    string Arm,
    ArmServer Server,
    int Replicas,
    IdleScenarioResult? W0,
    IReadOnlyList<WriteScenarioResult> Writes,
    JoinRampResult? W3,
    string? Error);

/// <summary>
/// A W1 arm's capacity as a fraction of the floor arm's, measured in the same run. <see cref="Note"/> says
/// when either capacity is only a lower bound (its ladder ended, or the generator ran out, before the SLO broke).
/// </summary>
public sealed record FloorComparison(
    string Arm, int? Capacity, int? FloorCapacity, double? Fraction, int? RelaxedCapacity, int? FloorRelaxedCapacity, double? RelaxedFraction, string? Note);

/// <summary>
/// A W3 arm's join capacity (p99 connect→joined within the limit) as a fraction of the floor arm's, measured
/// in the same run, and the most joins a second each completed in a valid step (what the box sustains, where a
/// 2-second step offered faster still passes on its backlog). <see cref="Note"/> as for W1.
/// </summary>
public sealed record JoinFloorComparison(
    string Arm, int? Capacity, int? FloorCapacity, double? Fraction, double MostCompletedPerSecond, double? FloorMostCompletedPerSecond, string? Note);

/// <summary>
/// Correctness over the whole run (what the CI test asserts on) and the headline comparisons.
/// Missing = deliveries that never arrived; out-of-order = a member saw a lower room version after a higher one;
/// duplicates include those that arrived after their step's books closed; mismatched = events credited by opId
/// to a change but carrying another room or quantity, or naming no change at all; late = deliveries that came
/// after their step's books closed (the step counted them missing). Each delivery counts once: one after its step's books
/// closed only in that step's late figures, not as a later step's out-of-order or duplicate delivery. Failed writes =
/// changes refused or never sent; unacknowledged = changes whose ack never came; failed joins = W3 joins that did not
/// complete: none of them is a missing delivery (a refused change is expected nowhere), so each is counted on its own.
/// </summary>
public sealed record RunSummary(
    long Missing,
    long OutOfOrder,
    long Duplicates,
    long Mismatched,
    long Late,
    long Gaps,
    long ClosedConnections,
    long FailedConnects,
    long FailedWrites,
    long UnacknowledgedWrites,
    long FailedJoins,
    int InvalidSteps,
    IReadOnlyList<FloorComparison> VersusFloor,
    IReadOnlyList<JoinFloorComparison> JoinsVersusFloor);

/// <summary>The results.json document.</summary>
public sealed record RunResult(
    string Profile,
    DateTimeOffset StartedAt,
    double Seconds,
    bool Complete,
    string? Error,
    MachineInfo Machine,
    string? Commit,
    Profiles.ProfileSettings Settings,
    IReadOnlyList<ArmResult> Arms,
    RunSummary Summary);
