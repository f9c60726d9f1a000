using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>One trace's pauses as <c>gc</c> prints them: counts, pause lengths, each phase's mean, what the cards marked.</summary>
public static class GcPhaseSummary
{
    public static IReadOnlyList<string> Lines(string name, IReadOnlyList<GcPauseSplit> pauses, double seconds)
    {
        var collections = pauses.Where(p => p.Generation is not null).ToList();
        var others = pauses.Where(p => p.Generation is null).ToList();
        if (collections.Count == 0 && others.Count == 0)
        {
            return [Invariant($"{name}: no GC pause in {seconds:0.0} s (was it traced with Microsoft-Windows-DotNETRuntime:0x1:4?)")];
        }

        var byGeneration = collections.GroupBy(p => p.Generation!.Value).OrderBy(g => g.Key).ToList();
        var lines = new List<string>
        {
            Invariant($"{name}: {collections.Count} GCs in {seconds:0.0} s ({string.Join(", ", byGeneration.Select(g => Invariant($"{g.Count()} gen{g.Key}")))})"),
        };
        if (collections.Count > 0)
        {
            lines.Add("  " + Row("all", collections));
            lines.AddRange(byGeneration.Select(g => "  " + Row(Invariant($"gen{g.Key}"), [.. g])));
        }

        if (others.Count > 0)
        {
            var lengths = others.Select(p => p.PauseMs).ToList();
            lines.Add(Invariant($"  and {others.Count} pauses in which no collection started (a background GC's later pauses, or threads stopped for something else): mean {lengths.Average():0.00} ms, max {lengths.Max():0.00}"));
        }

        return lines;
    }

    private static string Row(string label, IReadOnlyList<GcPauseSplit> pauses)
    {
        var sorted = pauses.Select(p => p.PauseMs).Order().ToArray();
        var phases = GcPhases.Order.Select(phase => Invariant($"{phase} {pauses.Average(p => p.PhaseMs.GetValueOrDefault(phase)):0.00}"));
        var cardsKb = pauses.Average(p => p.MarkedBytes.GetValueOrDefault(GcPhases.Cards)) / 1024;
        return Invariant($"{label}: pause mean {sorted.Average():0.00} ms, median {Median(sorted):0.00}, max {sorted[^1]:0.00}; mean per phase (ms): {string.Join(", ", phases)}; marked through the cards: {cardsKb:0} KB a GC");
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
