using System.Globalization;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Whether the generator kept up during a step. A starved generator sends late and reads late, and then
/// the latencies describe it, not the servers: such a step is invalid, and stepping stops there.
/// </summary>
public static class GeneratorVerdict
{
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
