using System.Globalization;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Whether the generator kept up during a step. A starved generator sends late and reads late, and then
/// the latencies describe it, not the servers: such a step is invalid, and stepping stops there — unless
/// the servers broke the limit on their own account (<see cref="BrokeBeyondGenerator"/>).
/// </summary>
public static class GeneratorVerdict
{
    /// <summary>
    /// Whether a step broke <paramref name="limitMs"/> by more than a late generator can explain. Latency
    /// counts from the intended time, and the generator adds to any one sample at most how late it sent
    /// (its worst send lag) and how late it read (its worst thread-pool delay); a p99 above the limit by
    /// more than both is the servers'. Such a step counts as broken even when the generator was late.
    /// </summary>
    public static bool BrokeBeyondGenerator(LatencySummary latency, double limitMs, LatencySummary sendLag, LatencySummary poolDelay) =>
        latency.P99 is { } p99 && p99 - ((sendLag.Max ?? 0) + (poolDelay.Max ?? 0)) > limitMs;

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
