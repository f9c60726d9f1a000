using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>One trace's pauses as <c>gc</c> prints them: counts, pause lengths, and the mean of each phase.</summary>
public static class GcPhaseSummary
{
    public static IReadOnlyList<string> Lines(string name, IReadOnlyList<GcPauseSplit> pauses, double seconds)
    {
        if (pauses.Count == 0)
        {
            return [Invariant($"{name}: no GC pause in {seconds:0.0} s (was it traced with Microsoft-Windows-DotNETRuntime:0x1:4?)")];
        }

        var lines = new List<string>
        {
            Invariant($"{name}: {pauses.Count} GCs in {seconds:0.0} s ({string.Join(", ", pauses.GroupBy(p => p.Generation).OrderBy(g => g.Key).Select(g => Invariant($"{g.Count()} gen{g.Key}")))})"),
            "  " + Row("all", pauses),
        };
        foreach (var generation in pauses.GroupBy(p => p.Generation).OrderBy(g => g.Key))
        {
            lines.Add("  " + Row(Invariant($"gen{generation.Key}"), [.. generation]));
        }

        return lines;
    }

    private static string Row(string label, IReadOnlyList<GcPauseSplit> pauses)
    {
        var sorted = pauses.Select(p => p.PauseMs).Order().ToArray();
        var phases = GcPhases.Order.Select(phase => Invariant($"{phase} {pauses.Average(p => p.PhaseMs.GetValueOrDefault(phase)):0.00}"));
        return Invariant($"{label}: pause mean {sorted.Average():0.00} ms, median {Median(sorted):0.00}, max {sorted[^1]:0.00}; mean per phase (ms): {string.Join(", ", phases)}");
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
