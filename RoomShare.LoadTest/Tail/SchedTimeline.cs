using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>
/// What ran on each CPU, from <c>perf sched timehist</c> text (of a <c>perf sched record -k CLOCK_MONOTONIC</c>):
/// each line is a sched-out, the task having run for <c>run time</c> ms up to <c>time</c> s.
/// </summary>
public sealed class SchedTimeline
{
    private readonly SchedRun[][] _byCpu;

    public SchedTimeline(IEnumerable<SchedRun> runs)
    {
        // Per CPU the runs follow each other without overlap: sorted by end they are sorted by start too,
        // which is what lets Overlapping stop at the first run past the window.
        _byCpu = [.. runs.GroupBy(r => r.Cpu).OrderBy(g => g.Key).Select(g => g.OrderBy(r => r.EndNs).ToArray())];
        Cpus = _byCpu.Length;
        CutShort = _byCpu.Sum(runsOfCpu => runsOfCpu.Count(r => r.Pid == UnknownPid));
        if (Cpus > 0)
        {
            // Covered where every CPU is: each CPU's first line only tells when its first traced task stopped.
            StartNs = _byCpu.Max(runsOfCpu => runsOfCpu[0].StartNs);
            EndNs = _byCpu.Min(runsOfCpu => runsOfCpu[^1].EndNs);
        }
    }

    public int Cpus { get; }

    /// <summary>Runs whose task name perf cut short: sorted by name only (<see cref="UnknownPid"/>).</summary>
    public int CutShort { get; }

    /// <summary>Start of the span every CPU's trace covers (monotonic ns).</summary>
    public long StartNs { get; }

    /// <summary>End of the span every CPU's trace covers (monotonic ns).</summary>
    public long EndNs { get; }

    public bool Covers(long startNs, long endNs) => Cpus > 0 && startNs >= StartNs && endNs <= EndNs;

    /// <summary>Every run on any CPU that overlaps [startNs, endNs).</summary>
    public IEnumerable<SchedRun> Overlapping(long startNs, long endNs)
    {
        foreach (var runs in _byCpu)
        {
            for (var i = FirstEndingAfter(runs, startNs); i < runs.Length && runs[i].StartNs < endNs; i++)
            {
                yield return runs[i];
            }
        }
    }

    public static SchedTimeline Read(string path)
    {
        var runs = new List<SchedRun>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || IsHeader(trimmed))
            {
                continue;
            }

            runs.Add(ParseLine(trimmed) ?? throw TailInputException.At(
                path, lineNumber, $"not a 'perf sched timehist' line (time [cpu] task[tid/pid] wait delay run): '{trimmed}'"));
        }

        return runs.Count > 0 ? new SchedTimeline(runs) : throw TailInputException.At(path, lineNumber, "no 'perf sched timehist' lines at all");
    }

    // The three heading lines: column names, their second line, and the dashes.
    private static bool IsHeader(string trimmed) =>
        trimmed.StartsWith("time ", StringComparison.Ordinal)
        || trimmed.StartsWith("[tid/pid]", StringComparison.Ordinal)
        || trimmed.StartsWith("---", StringComparison.Ordinal);

    // "85980.704988 [0000]  .NET TP Worker[12529/12513]   0.000   0.008   0.053": the task name may hold spaces,
    // so the name is whatever lies between the CPU and the last three numbers.
    internal static SchedRun? ParseLine(string trimmed)
    {
        var tokens = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < 6
            || !decimal.TryParse(tokens[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var endSeconds)
            || tokens[1].Length < 3 || tokens[1][0] != '[' || tokens[1][^1] != ']'
            || !int.TryParse(tokens[1].AsSpan(1, tokens[1].Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var cpu)
            || !decimal.TryParse(tokens[^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var runMs)
            || !decimal.TryParse(tokens[^2], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _)
            || !decimal.TryParse(tokens[^3], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
        {
            return null;
        }

        var task = string.Join(' ', tokens[2..^3]);
        if (!TryParseTask(task, out var name, out var pid))
        {
            return null;
        }

        // decimal, not double: µs digits of a ~1e5 s timestamp survive the conversion to ns exactly.
        var endNs = (long)(endSeconds * 1_000_000_000m);
        return new SchedRun(cpu, endNs - (long)(runMs * 1_000_000m), endNs, name, pid);
    }

    /// <summary>The pid of a run whose task name perf cut short (not null: null is idle).</summary>
    public const int UnknownPid = -1;

    // "name[tid/pid]", "name[pid]" (a single-threaded process), "<idle>", ":-1[-1/pid]" (a thread gone before perf
    // named it), or "name[tid/p" (cut short).
    private static bool TryParseTask(string task, out string name, out int? pid)
    {
        name = task;
        pid = null;
        if (task == "<idle>")
        {
            return true;
        }

        var open = task.LastIndexOf('[');
        if (open > 0 && task[^1] != ']' && !task[open..].Contains(']', StringComparison.Ordinal))
        {
            // perf cuts "name[tid/pid]" at 32 characters, so a long name with long ids loses its pid: sorted by name only.
            name = task[..open];
            pid = UnknownPid;
            return true;
        }

        if (open <= 0 || task[^1] != ']')
        {
            return false;
        }

        name = task[..open];
        var ids = task[(open + 1)..^1].Split('/');
        if (ids.Length > 2 || !int.TryParse(ids[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            // perf writes a thread that exited before it could name it as ":-1[-1/pid]".
            || (ids.Length == 2 && !int.TryParse(ids[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            return false;
        }

        pid = parsed;
        return true;
    }

    private static int FirstEndingAfter(SchedRun[] runs, long ns)
    {
        int lo = 0, hi = runs.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (runs[mid].EndNs <= ns)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
