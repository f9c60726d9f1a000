using ScottPlot;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// The two PNG plots of a run: p99 (and p50) fan-out latency against offered load, and replica CPU per
/// delivered event against offered load, one line per arm and write scenario.
/// </summary>
public static class ResultPlots
{
    public const string LatencyFile = "latency.png";
    public const string CpuFile = "cpu-per-event.png";

    private const int Width = 1000;
    private const int Height = 560;

    /// <summary>Writes both plots; returns the file names written (none when no write step ran).</summary>
    public static IReadOnlyList<string> Write(string directory, RunResult run)
    {
        var series = run.Arms.SelectMany(a => a.Writes).Where(w => w.Steps.Count > 0).ToList();
        if (series.Count == 0)
        {
            return [];
        }

        var latency = new Plot();
        foreach (var scenario in series)
        {
            var rates = scenario.Steps.Select(s => (double)s.Rate).ToArray();
            var p99 = latency.Add.Scatter(rates, scenario.Steps.Select(s => s.FanoutMs.P99 ?? double.NaN).ToArray());
            p99.LegendText = $"{scenario.Arm} {scenario.Scenario} p99";
            var p50 = latency.Add.Scatter(rates, scenario.Steps.Select(s => s.FanoutMs.P50 ?? double.NaN).ToArray(), p99.Color);
            p50.LinePattern = LinePattern.Dashed;
            p50.LegendText = $"{scenario.Arm} {scenario.Scenario} p50";
        }

        AddLimit(latency, run.Settings.Slo.FanoutP99Ms, "SLO p99");
        AddLimit(latency, run.Settings.Slo.RelaxedFanoutP99Ms, "relaxed p99");
        Label(latency, $"Fan-out latency (intended send → receipt) vs offered load — {run.Profile}", "fan-out latency (ms)");
        latency.SavePng(Path.Combine(directory, LatencyFile), Width, Height);

        var cpu = new Plot();
        foreach (var scenario in series)
        {
            var line = cpu.Add.Scatter(
                scenario.Steps.Select(s => (double)s.Rate).ToArray(),
                scenario.Steps.Select(s => s.Cpu.ReplicaMicrosPerEvent ?? double.NaN).ToArray());
            line.LegendText = $"{scenario.Arm} {scenario.Scenario}";
        }

        Label(cpu, $"Server CPU per delivered event (sum over replicas) vs offered load — {run.Profile}", "server CPU (µs per delivered event)");
        cpu.SavePng(Path.Combine(directory, CpuFile), Width, Height);
        return [LatencyFile, CpuFile];
    }

    private static void AddLimit(Plot plot, double milliseconds, string label)
    {
        var line = plot.Add.HorizontalLine(milliseconds);
        line.LinePattern = LinePattern.Dotted;
        line.Color = Colors.Gray;
        line.LegendText = label;
    }

    private static void Label(Plot plot, string title, string yLabel)
    {
        plot.Title(title);
        plot.XLabel("offered load (changes/s)");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
    }
}
