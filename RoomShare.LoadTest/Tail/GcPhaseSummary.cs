using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>One trace's pauses as <c>gc</c> prints them: counts, pause lengths, each phase's mean, what the cards marked.</summary>
public static class GcPhaseSummary
{
    /// <param name="name">The trace's name, first on its lines.</param>
    /// <param name="pauses">Its pauses (<see cref="GcPhases.Split"/>).</param>
    /// <param name="seconds">How long it ran.</param>
    /// <param name="eventsLost">Events the runtime dropped from the trace: said, since a lost one can leave a pause out.</param>
    public static IReadOnlyList<string> Lines(string name, IReadOnlyList<GcPauseSplit> pauses, double seconds, int eventsLost = 0)
    {
        var collections = pauses.Where(p => p.Generation is not null).ToList();
        var others = pauses.Where(p => p.Generation is null).ToList();
        var lost = eventsLost > 0 ? Invariant($"; {eventsLost} trace events lost, so some pauses may be left out") : "";
        if (collections.Count == 0 && others.Count == 0)
        {
            return [Invariant($"{name}: no GC pause in {seconds:0.0} s (was it traced with Microsoft-Windows-DotNETRuntime:0x1:4?){lost}")];
        }

        var byGeneration = collections.GroupBy(p => p.Generation!.Value).OrderBy(g => g.Key).ToList();
        var counts = byGeneration.Count > 0 ? Invariant($" ({string.Join(", ", byGeneration.Select(g => Invariant($"{g.Count()} gen{g.Key}")))})") : "";
        var lines = new List<string> { Invariant($"{name}: {Count(collections.Count, "GC")} in {seconds:0.0} s{counts}{lost}") };
        if (collections.Count > 0)
        {
            lines.Add("  " + Row("all", collections));
            lines.AddRange(byGeneration.Select(g => "  " + Row(Invariant($"gen{g.Key}"), [.. g])));
        }

        if (others.Count > 0)
        {
            var lengths = others.Select(p => p.PauseMs).ToList();
            lines.Add(Invariant($"  {Count(others.Count, "pause")} in which no collection started (a background GC's later pauses, or threads stopped for something else): mean {lengths.Average():0.00} ms, max {lengths.Max():0.00}"));
        }

        return lines;
    }

    private static string Count(int n, string noun) => Invariant($"{n} {noun}{(n == 1 ? "" : "s")}");

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
