using System.Globalization;
using RoomShare.LoadTest.Results;
using Spectre.Console;

namespace RoomShare.LoadTest.Console;

/// <summary>The table printed at the end of a run: every write step of every arm, and where the files are.</summary>
public static class FinalTable
{
    public static void Print(RunResult run, string directory)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"RoomShare load test — {run.Profile}");
        foreach (var column in new[] { "arm", "scenario", "offered/s", "events/s", "fan-out p50", "p99", "p99.9", "max", "ack p99", "missing", "ooo", "replica cores", "µs/event", "valid" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var write in run.Arms.SelectMany(a => a.Writes))
        {
            foreach (var s in write.Steps)
            {
                table.AddRow(write.Arm, write.Scenario, N(s.Rate), N(s.DeliveriesPerSecond), N(s.FanoutMs.P50), N(s.FanoutMs.P99), N(s.FanoutMs.P999),
                    N(s.FanoutMs.Max), N(s.AckMs.P99), N(s.Missing), N(s.OutOfOrder), N(s.Cpu.ReplicaCores), N(s.Cpu.ReplicaMicrosPerEvent), Validity(s));
            }
        }

        AnsiConsole.Write(table);
        foreach (var write in run.Arms.SelectMany(a => a.Writes))
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{write.Arm} {write.Scenario}: capacity {write.AtSlo} at SLO, {write.AtRelaxedSlo} relaxed"));
        }

        foreach (var versus in run.Summary.VersusFloor)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"{versus.Arm} W1 vs floor: {N(versus.Fraction)} at SLO, {N(versus.RelaxedFraction)} relaxed{(versus.Note is null ? string.Empty : $" ({versus.Note})")}"));
        }

        var s2 = run.Summary;
        AnsiConsole.MarkupLine(Markup.Escape($"correctness: missing {s2.Missing}, out-of-order {s2.OutOfOrder}, duplicates {s2.Duplicates}, mismatched {s2.Mismatched}, late {s2.Late}, gaps {s2.Gaps}, closed {s2.ClosedConnections}, failed connects {s2.FailedConnects}; invalid steps {s2.InvalidSteps}"));
        AnsiConsole.MarkupLine(Markup.Escape($"results: {directory}/{ResultsJson.FileName}, {MarkdownReport.FileName}, plots"));
    }

    /// <summary>A step that broke beyond a late generator's lateness is valid, but says the generator was late.</summary>
    private static string Validity(WriteStepResult s) => !s.Valid ? "no" : s.GeneratorLate.Count > 0 ? "yes (generator late)" : "yes";

    private static string N(double? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "—";
}
