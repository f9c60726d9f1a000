using System.Globalization;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Whether the generator kept up during a step. A starved generator sends late and reads late, and then
/// the latencies describe it, not the servers: such a step is invalid, and stepping stops there — unless
/// a write step met the SLO with no loss all the same, or broke the relaxed limit on the servers' account (<see cref="WriteStepCounts"/>).
/// </summary>
public static class GeneratorVerdict
{
    /// <summary>
    /// Whether a write step counts towards capacity: its generator kept up (<paramref name="late"/> is
    /// empty); or, with the generator under its core limit, the step met <paramref name="sloMs"/> with no loss
    /// and the generator's lateness counted against it (<see cref="MetDespiteGenerator"/>), or broke
    /// <paramref name="relaxedMs"/> by more than a late generator can explain (<see cref="BrokeBeyondGenerator"/>).
    /// In between (over the SLO, up to the relaxed limit plus the estimated lateness) it is invalid: that
    /// estimate is not a bound. A generator at its core limit voids the step either way, a conservative guard.
    /// </summary>
    public static bool WriteStepCounts(
        GeneratorLimits limits, IReadOnlyList<string> late, double generatorCores, bool clean, LatencySummary fanout, double sloMs, double relaxedMs,
        LatencySummary sendLag, LatencySummary poolDelay) =>
        late.Count == 0
        || (generatorCores < limits.MaxCores && (MetDespiteGenerator(clean, fanout, sloMs) || BrokeBeyondGenerator(fanout, relaxedMs, sendLag, poolDelay)));

    /// <summary>
    /// Whether a write step met <paramref name="limitMs"/> with no loss although the generator was late. Latency
    /// counts from the intended time, so a late send or a late read only adds to a sample: within the limit
    /// with the generator's lateness, within it without. The rate was offered too: a change's fan-out includes
    /// its send lag, so 99 % of the step's changes went out within the limit (50 ms of a 10-second step). A step
    /// with loss is never excused this way. W3 does not take this rule: a join's limit is half its step, so a
    /// pass there does not show the rate was offered (JoinRampScenario).
    /// </summary>
    public static bool MetDespiteGenerator(bool clean, LatencySummary latency, double limitMs) =>
        clean && latency.P99 is { } p99 && p99 <= limitMs;

    /// <summary>
    /// Whether a write step's p99 is over <paramref name="limitMs"/> by more than the generator's estimated
    /// worst lateness. Latency counts from the intended time; the generator adds to a sample how late it
    /// sent and how late it read. Sends are measured (the send lag). Reads run on the socket threads
    /// (inline completions) and are not: they are taken to be as late as the worst send (those threads
    /// wait for a core like the send thread), plus the thread pool's worst delay for what hops to it.
    /// An estimate, not a bound: the relaxed limit it is checked against is twice the SLO. Since 2026-12-04 the send
    /// thread runs raised (nice −10) and the socket threads do not, so the reads may be later than the sends: a capacity
    /// broken by such a step says so in the floor comparison's note (RunSummaries.LateGeneratorBreakNote).
    /// </summary>
    public static bool BrokeBeyondGenerator(LatencySummary latency, double limitMs, LatencySummary sendLag, LatencySummary poolDelay) =>
        latency.P99 is { } p99 && p99 - ((2 * (sendLag.Max ?? 0)) + (poolDelay.Max ?? 0)) > limitMs;

    public static IReadOnlyList<string> Reasons(GeneratorLimits limits, LatencySummary sendLag, LatencySummary poolDelay, CpuUsage cpu)
    {
        var reasons = new List<string>();
        if (sendLag.P99 > limits.MaxSendLagP99Ms)
        {
            reasons.Add(Text($"send lag p99 {sendLag.P99} ms > {limits.MaxSendLagP99Ms} ms"));
        }

        if (poolDelay.P99 > limits.MaxPoolDelayP99Ms)
        {
            reasons.Add(Text($"generator thread-pool delay p99 {poolDelay.P99} ms > {limits.MaxPoolDelayP99Ms} ms"));
        }

        if (cpu.GeneratorCores >= limits.MaxCores)
        {
            reasons.Add(Text($"generator used {cpu.GeneratorCores} cores ≥ {limits.MaxCores}"));
        }

        return reasons;
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
