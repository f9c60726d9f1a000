using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// One write step at one offered rate. Loss and order cover every change of the step (warm-up too);
/// <see cref="Mismatched"/> counts events credited by opId to one of its changes but carrying another
/// room or quantity, <see cref="StrayChoices"/> choice events whose opId names no change of the run;
/// latencies and CPU cover the measured window only. µs per event = CPU seconds ÷ choice events delivered
/// to members in the window. <see cref="GeneratorLate"/> lists the generator's limits the step crossed:
/// with any, the step is invalid unless the generator stayed under its core limit and the step met the SLO
/// with no loss all the same, or broke the relaxed limit beyond the generator's lateness (<c>GeneratorVerdict.WriteStepCounts</c>).
/// <see cref="GeneratorGc"/>: whether the generator's own GC was held off through the step's sends (<see cref="GeneratorGcHold"/>).
/// <see cref="Step"/>: its number in the arm's run of the scenario (0 the warm-up), as in its ack timeline's file name.
/// <see cref="AofRewrites"/>: Redis's AOF rewrites (any node's) from the measured window's opening to the end of its drain (<see cref="RedisAofRewrites"/>;
/// null: no Redis, or not read).
/// </summary>
public sealed record WriteStepResult(
    int Step,
    int Rate,
    int Attempt,
    double WindowSeconds,
    int Sent,
    long Acknowledged,
    long Failed,
    int Unacknowledged,
    IReadOnlyDictionary<string, int> Errors,
    long DeliveriesInWindow,
    double DeliveriesPerSecond,
    double ExpectedDeliveriesPerSecond,
    LatencySummary FanoutMs,
    LatencySummary AckMs,
    LatencySummary SendLagMs,
    LatencySummary PoolDelayMs,
    long Missing,
    long Duplicates,
    long Mismatched,
    long StrayChoices,
    long OutOfOrder,
    long DuplicateVersions,
    long Gaps,
    long ClosedConnections,
    CpuUsage Cpu,
    double DrainSeconds,
    bool Valid,
    IReadOnlyList<string> GeneratorLate,
    bool Clean,
    bool MeetsSlo,
    bool MeetsRelaxedSlo,
    GcHoldResult GeneratorGc,
    int? AofRewrites = null,
    long LateFaults = 0)
{
    /// <summary>
    /// The step judged again once what reached members after its books closed is known: a late duplicate, mismatch or
    /// out-of-order receipt (<see cref="LateDeliveries.Faults"/>) is the step's fault, so it is no longer clean and
    /// meets neither limit. Late first receipts need nothing: the step counted them missing already.
    /// </summary>
    public WriteStepResult WithLate(LateDeliveries late) =>
        late.Faults == 0 ? this : this with { LateFaults = late.Faults, Clean = false, MeetsSlo = false, MeetsRelaxedSlo = false };

    /// <summary>
    /// Whether the step's verdict stands for the capacity: a valid step, or one with loss, duplicates, mismatched or
    /// stray events, out-of-order deliveries or a closed connection — the servers' failure, starved generator or not (it breaks the limit).
    /// </summary>
    public bool Decisive => Valid || !Clean;
}

/// <summary>
/// W1 or W2 on one arm: its steps and the capacities they give. <see cref="DiscardedSteps"/> holds what
/// was run but does not count towards capacity: the warm-up pass (attempt 0) and first attempts that were
/// run again (attempt 1); their loss and order still count in the run's summary. <see cref="Steps"/> are
/// in rate order; <see cref="RefinedRates"/> are those run after the ladder to narrow the capacity at the SLO.
/// <see cref="Late"/>: what reached members after its step's books closed, read once the last step was over.
/// <see cref="CloseReasons"/>: what the first few connections the servers closed said as they ended (the client's
/// view: a close message's error, or the socket's exception).
/// </summary>
public sealed record WriteScenarioResult(
    string Scenario,
    string Arm,
    WriteScenarioSettings Settings,
    ConnectReport? Connect,
    IReadOnlyList<WriteStepResult> Steps,
    IReadOnlyList<WriteStepResult> DiscardedSteps,
    Capacity AtSlo,
    Capacity AtRelaxedSlo,
    string? Error,
    IReadOnlyList<int> RefinedRates,
    LateDeliveries Late = default,
    IReadOnlyList<string>? CloseReasons = null);
