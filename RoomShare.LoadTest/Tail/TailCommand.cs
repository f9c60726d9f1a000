using System.CommandLine;
using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>
/// <c>tail</c>: which of a write step's slow changes waited across a kdamond run or a GC pause, against the fast
/// ones, and whose CPU time filled their waits. Reads files only; it measures nothing itself.
/// </summary>
public static class TailCommand
{
    public static Command Create()
    {
        var acks = new Option<FileInfo>("--acks") { Description = "a step's ack timeline CSV, as --latencies writes it", Required = true };
        var sched = new Option<FileInfo>("--sched") { Description = "'perf sched timehist' output of a 'perf sched record -k CLOCK_MONOTONIC' taken during the step", Required = true };
        var gcTraces = new Option<FileInfo[]>("--gc-trace")
        {
            Description = "a .nettrace of 'dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4' (repeatable; one per .NET process)",
            AllowMultipleArgumentsPerToken = true,
        };
        var generatorPid = new Option<int?>("--generator-pid") { Description = "pid of the load tool that wrote --acks" };
        var serverPids = new Option<string[]>("--server-pids") { Description = "pids of the RoomServer replicas, comma-separated" };
        var slowMs = new Option<double>("--slow-ms") { Description = "a change is slow when its ack takes longer (ms)", DefaultValueFactory = _ => 8 };
        acks.AcceptExistingOnly();
        sched.AcceptExistingOnly();
        gcTraces.AcceptExistingOnly();
        serverPids.Validators.Add(result =>
        {
            if (Pids(result.GetValueOrDefault<string[]>()) is null)
            {
                result.AddError("--server-pids: expected whole numbers, comma-separated, e.g. 13523,13532");
            }
        });
        slowMs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not > 0)
            {
                result.AddError("--slow-ms must be more than 0");
            }
        });

        var command = new Command("tail", "attribute a write step's slow changes to what ran on the CPUs while they waited (kdamond, GC pauses, ...)")
        {
            acks, sched, gcTraces, generatorPid, serverPids, slowMs,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            try
            {
                var timeline = AckTimeline.Read(parse.GetValue(acks)!.FullName);
                var runs = SchedTimeline.Read(parse.GetValue(sched)!.FullName);
                var traces = parse.GetValue(gcTraces) ?? [];
                if (traces.Length > 0 && timeline.Clock is null)
                {
                    throw new TailInputException($"{parse.GetValue(acks)!.FullName}: no '# clock:' line, needed to place the GC pauses of --gc-trace");
                }

                var pausesByProcess = traces.Select(t => GcPauses.Read(t.FullName, timeline.Clock!)).ToList();
                var classifier = new TaskClassifier(Pids(parse.GetValue(serverPids))!.ToHashSet(), parse.GetValue(generatorPid));
                var slow = parse.GetValue(slowMs);
                var report = TailAttribution.Attribute(timeline.Changes, runs, classifier, pausesByProcess, slow);
                Print(output, report, runs, pausesByProcess, slow);
                return 0;
            }
            catch (TailInputException e)
            {
                parse.InvocationConfiguration.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static int[]? Pids(string[]? values)
    {
        var pids = new List<int>();
        foreach (var part in (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }

            pids.Add(pid);
        }

        return [.. pids];
    }

    private static void Print(TextWriter output, TailReport report, SchedTimeline sched, List<GcTrace> gcTraces, double slowMs)
    {
        var c = CultureInfo.InvariantCulture;
        var pauses = gcTraces.SelectMany(t => t.Pauses).ToList();
        output.WriteLine(string.Format(c,
            "trace: {0:F3}-{1:F3} s monotonic, {2} CPUs; {3} changes inside it and every GC trace (left out: {4} outside the sched trace, {5} outside a GC trace); ack p99 {6}",
            sched.StartNs / 1e9, sched.EndNs / 1e9, sched.Cpus, report.Changes, report.OutsideSched, report.OutsideGcTraces,
            double.IsNaN(report.P99AckMs) ? "-" : report.P99AckMs.ToString("F1", c) + " ms"));
        if (sched.CutShort > 0)
        {
            output.WriteLine(string.Format(c, "{0} sched runs had their task name cut short by perf: sorted by name only", sched.CutShort));
        }

        if (report.Changes == 0)
        {
            output.WriteLine("no change inside: was perf recorded with '-k CLOCK_MONOTONIC', during this step, and did the GC traces run through it?");
        }

        output.WriteLine(string.Format(c, "slow (ack > {0} ms): {1} ({2})", slowMs, report.Slow.Changes, Percent(report.Slow.Changes, report.Changes)));
        output.WriteLine(gcTraces.Count == 0
            ? "GC pauses: no --gc-trace given, so none counted"
            : string.Format(c, "GC pauses: {0} in {1} trace(s), {2} inside the sched trace", pauses.Count, gcTraces.Count, pauses.Count(p => p.Overlaps(sched.StartNs, sched.EndNs))));
        output.WriteLine();
        output.WriteLine(string.Format(c, "{0,-20}{1,18}{2,18}{3,18}{4,18}", "waits overlapping", "kdamond >=0.5 ms", "a GC pause", "either", "neither"));
        foreach (var (label, counts) in new[] { ("slow", report.Slow), ("fast", report.Fast) })
        {
            output.WriteLine(string.Format(c, "{0,-20}{1,18}{2,18}{3,18}{4,18}",
                $"{label} ({counts.Changes})", Cell(counts.Kdamond, counts.Changes), Cell(counts.Gc, counts.Changes),
                Cell(counts.Either, counts.Changes), Cell(counts.Neither, counts.Changes)));
        }

        output.WriteLine();
        output.WriteLine(string.Format(c, "{0,-20}{1,18}{2,18}", $"CPU share ({sched.Cpus} CPUs)", "in slow waits", "whole trace"));
        foreach (var taskClass in Enum.GetValues<TaskClass>())
        {
            output.WriteLine(string.Format(c, "{0,-20}{1,17:F1}%{2,17:F1}%",
                taskClass.ToString().ToLowerInvariant(), report.SlowWaitShares[taskClass] * 100, report.TraceShares[taskClass] * 100));
        }
    }

    private static string Cell(int count, int of) => string.Format(CultureInfo.InvariantCulture, "{0} ({1})", count, Percent(count, of));

    private static string Percent(int count, int of) =>
        of == 0 ? "-" : string.Format(CultureInfo.InvariantCulture, "{0:F1} %", 100.0 * count / of);
}
