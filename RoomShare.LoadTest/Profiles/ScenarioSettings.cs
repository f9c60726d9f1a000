using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Profiles;

/// <summary>
/// W1/W2: stepped open-loop writes. Every step sends (warm-up + step) × rate changes; only the step's
/// seconds are measured; then it drains (bounded) until every member has every accepted change. After
/// the ladder, <paramref name="RefineSteps"/> more steps bisect the gap between the capacity at the SLO
/// and the step above it (<see cref="Results.Capacity.Refinement"/>): a ladder of ×1.25 alone gives the
/// capacity only to within 25 %.
/// </summary>
public sealed record WriteScenarioSettings(
    string Id,
    int Rooms,
    int Members,
    int MenuItems,
    IReadOnlyList<int> Rates,
    double WarmupSeconds,
    double StepSeconds,
    double DrainSeconds,
    double SettleSeconds,
    int RefineSteps = 0)
{
    public int Connections => Rooms * Members;
}

/// <summary>W0: idle connections, joined in two halves with a settle after each. RSS before, between the halves and after, then CPU over an idle window.</summary>
public sealed record IdleScenarioSettings(int Rooms, int Members, double SettleSeconds, double IdleSeconds)
{
    public int Connections => Rooms * Members;
}

/// <summary>
/// W3: join ramp. Each step opens rate × seconds new connections (at most <paramref name="MaxConnectionsPerStep"/>)
/// open loop and measures intended start → Join completed; then closes them all before the next step.
/// Unmeasured warm-up passes at the first rate come first: at least <paramref name="MinWarmUpPasses"/>,
/// then until one costs the replicas within <see cref="WarmUpTolerance"/> of the one before, at most
/// <paramref name="MaxWarmUpPasses"/>. After the ladder, <paramref name="RefineSteps"/> more steps narrow
/// the capacity (<see cref="Results.Capacity.Refinement"/>), as for the writes.
/// </summary>
public sealed record JoinRampSettings(
    int Rooms, IReadOnlyList<int> Rates, double StepSeconds, int MaxConnectionsPerStep, double P99LimitMs,
    int MinWarmUpPasses = 3, int MaxWarmUpPasses = 6, int RefineSteps = 0)
{
    public const double WarmUpTolerance = 0.15;

    /// <summary>W3's send-lag limit as a share of its p99 limit (<see cref="LimitsFrom"/>).</summary>
    public const double SendLagShareOfLimit = 0.1;

    /// <summary>Whether the last warm-up pass cost the replicas within the tolerance of the one before.</summary>
    public static bool LastPassSettled(IReadOnlyList<double> replicaCores) =>
        replicaCores.Count >= 2 && Math.Abs(replicaCores[^1] - replicaCores[^2]) <= WarmUpTolerance * replicaCores[^2];

    /// <summary>Whether warm-up ends after these passes.</summary>
    public bool WarmUpDone(IReadOnlyList<double> replicaCores) =>
        replicaCores.Count >= MaxWarmUpPasses || (replicaCores.Count >= MinWarmUpPasses && LastPassSettled(replicaCores));

    /// <summary>Connections started in a step at <paramref name="rate"/>: rate × step, at least 1, at most the bound.</summary>
    public int StepSize(int rate) => Math.Max(1, Math.Min(MaxConnectionsPerStep, (int)Math.Round(rate * StepSeconds)));

    /// <summary>
    /// Whether a step at <paramref name="rate"/> is cut short by <see cref="MaxConnectionsPerStep"/>: it lasts less
    /// than <see cref="StepSeconds"/>, and a short burst can pass on a backlog the box could not sustain, so such a
    /// step that passes does not count towards the capacity (one that fails still does).
    /// </summary>
    public bool Capped(int rate) => StepSize(rate) < (int)Math.Round(rate * StepSeconds);

    /// <summary>The most connections any step of the ladder starts (what the rooms must hold).</summary>
    public int LargestStep => Rates.Max(StepSize);

    /// <summary>
    /// The generator's limits for a join step. The send-lag limit is 10 ms for writes, a fifth of their
    /// 50 ms SLO. A join's latency is also measured from its intended time, so a late send only adds to
    /// it; against W3's 1 s limit the same share would be 200 ms, and W3 takes half that. On a full
    /// 2-core box the lag is the box's scheduling (the generator at a third of a core, pool delay
    /// ~3 ms), not a starved generator.
    /// </summary>
    public GeneratorLimits LimitsFrom(GeneratorLimits limits) =>
        limits with { MaxSendLagP99Ms = Math.Max(limits.MaxSendLagP99Ms, P99LimitMs * SendLagShareOfLimit) };
}

/// <summary>The SLO a write step must meet: zero loss and p99 fan-out within the limit; also reported at a relaxed limit.</summary>
public sealed record SloSettings(double FanoutP99Ms, double RelaxedFanoutP99Ms);

/// <summary>When the generator itself is the bottleneck, a step is invalid (its latencies would describe the generator).</summary>
public sealed record GeneratorLimits(double MaxSendLagP99Ms, double MaxPoolDelayP99Ms, double MaxCores);

/// <summary>One cluster shape and the scenarios (W0..W3) run against it, in order.</summary>
public sealed record ArmPlan(ArmShape Arm, IReadOnlyList<string> Scenarios);

/// <summary>
/// Everything a run does: the sizes of each scenario, the arms, the limits. <paramref name="QuietSeconds"/>
/// separates scenarios on one arm (and W3's steps): closed connections make work on the servers after
/// they close (presence goes offline after a grace period, 5 s by default), which must not land in the
/// next measurement. <paramref name="GeneratorHoldsGc"/> (<c>gen.holdgc=on</c>): each write step runs its sends inside a
/// no-GC region of the generator's (<see cref="Measure.GeneratorGcHold"/>). Off by default: with the VM's DAMON running it
/// did not help, and the only SLO breaks in its fixed-rate pairs were held ones (docs/bench/w1-generator-gc-hold.md).
/// </summary>
public sealed record ProfileSettings(
    string Name,
    IdleScenarioSettings W0,
    WriteScenarioSettings W1,
    WriteScenarioSettings W2,
    JoinRampSettings W3,
    IReadOnlyList<ArmPlan> Arms,
    SloSettings Slo,
    GeneratorLimits Generator,
    int ConnectConcurrency,
    double QuietSeconds,
    double TimeLimitMinutes,
    bool GeneratorHoldsGc = false)
{
    /// <summary>The most connections any one scenario holds at once (sizes nginx).</summary>
    public int MaxConnections => new[] { W0.Connections, W1.Connections, W2.Connections, W3.MaxConnectionsPerStep }.Max();
}
