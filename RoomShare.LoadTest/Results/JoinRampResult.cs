using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// One join-ramp step: connections started open loop at Rate per second, intended start → Join completed.
/// <see cref="GeneratorLate"/>: the generator's limits the step crossed; with any, the step is invalid.
/// <see cref="AofRewrites"/>: Redis's AOF rewrites (any node's) from the first join's start to the last join's end
/// (<see cref="RedisAofRewrites"/>; null: not known). The closes after it are not the step's.
/// </summary>
public sealed record JoinStepResult(
    int Rate,
    int Attempted,
    int Joined,
    int Failed,
    IReadOnlyList<string> FailureSamples,
    LatencySummary ConnectToJoinedMs,
    LatencySummary DispatchLagMs,
    LatencySummary PoolDelayMs,
    CpuUsage Cpu,
    bool Valid,
    IReadOnlyList<string> GeneratorLate,
    bool MeetsSlo,
    bool Capped = false,
    int? AofRewrites = null)
{
    /// <summary>
    /// Whether the step counts towards the capacity: all do but a capped step (shorter than the step time,
    /// <see cref="JoinRampSettings.Capped"/>) that passed — its pass says less than a full step's.
    /// </summary>
    public static bool Counts(JoinStepResult step) => !(step.Capped && step.Valid && step.MeetsSlo);

    /// <summary>
    /// Joins completed per second of the step's window, which runs until the last join completes: what the
    /// box sustains. Offered faster than that, a 2-second step still passes while its backlog stays under
    /// the p99 limit.
    /// </summary>
    public double CompletedPerSecond => Cpu.WindowSeconds > 0 ? Math.Round(Joined / Cpu.WindowSeconds, 1) : 0;
}

/// <summary>
/// W3: joins per second at p99 connect→joined within the limit and no failures, read off the steps that
/// count (<see cref="JoinStepResult.Counts"/>).
/// <paramref name="WarmUpReplicaCores"/>: the replicas' cores in each unmeasured warm-up pass. Steps are in
/// rate order; <paramref name="RefinedRates"/> are those run after the ladder to narrow the capacity.
/// </summary>
public sealed record JoinRampResult(
    string Arm, JoinRampSettings Settings, IReadOnlyList<double> WarmUpReplicaCores, IReadOnlyList<JoinStepResult> Steps, Capacity AtSlo, string? Error,
    IReadOnlyList<int> RefinedRates);
