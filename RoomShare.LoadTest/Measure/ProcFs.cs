using System.Globalization;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// What /proc says about a process and the box: CPU time (utime+stime of all threads), resident memory,
/// children. Every read tolerates a process that has just exited (null).
/// </summary>
public static class ProcFs
{
    /// <summary>USER_HZ: 100 on every mainstream Linux configuration (`getconf CLK_TCK`).</summary>
    public const double TicksPerSecond = 100;

    /// <summary>
    /// CPU seconds used so far by <paramref name="pid"/> (user + system, all threads) and by the children it
    /// has reaped (Redis's AOF-rewrite fork: the store's work too), or null when it is gone.
    /// </summary>
    public static double? CpuSeconds(int pid)
    {
        return StatFields(pid) is { } fields ? AllTicks(fields) / TicksPerSecond : null;
    }

    /// <summary>
    /// As <see cref="CpuSeconds"/>, plus the children <paramref name="pid"/>'s main thread forked and has not reaped yet
    /// (Redis's AOF rewrite or RDB save while it runs), each with its own reaped children. The sum stays continuous when
    /// a child is reaped (its time moves into the parent's cutime and cstime), so a child's CPU falls in the windows it
    /// ran in, not the one it ended in. A reap between the reads would drop or double a child's time, so the parent is
    /// read on both sides of its children, again when its reaped time moved meanwhile. Null when the process is gone;
    /// its own figure alone where the kernel has no <c>children</c> file.
    /// </summary>
    public static double? CpuSecondsWithChildren(int pid)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (StatFields(pid) is not { } before)
            {
                return null;
            }

            var children = UnreapedChildren(pid).Sum(child => StatFields(child) is { } fields ? AllTicks(fields) : 0);
            if (StatFields(pid) is not { } after)
            {
                return null;
            }

            // Forks are rare (one rewrite at a time): a third reap in a row is not a case to handle.
            if (ReapedTicks(before) == ReapedTicks(after) || attempt == 2)
            {
                return (AllTicks(after) + children) / TicksPerSecond;
            }
        }
    }

    /// <summary>The children <paramref name="pid"/>'s main thread forked that are not reaped yet (zombies included: their time is not the parent's yet).</summary>
    private static IEnumerable<int> UnreapedChildren(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/task/{pid}/children");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break; // gone, or no such file on this kernel
        }

        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var child))
            {
                yield return child;
            }
        }
    }

    // fields 14 utime, 15 stime, 16 cutime, 17 cstime ([0] is field 3)
    private static long AllTicks(string[] fields) => Parse(fields[11]) + Parse(fields[12]) + ReapedTicks(fields);

    private static long ReapedTicks(string[] fields) => Parse(fields[13]) + Parse(fields[14]);

    /// <summary>VmRSS in bytes, or null when the process is gone.</summary>
    public static long? RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // exited
        }

        return null;
    }

    /// <summary>Pids whose parent is <paramref name="parentPid"/> (nginx's workers).</summary>
    public static IReadOnlyList<int> ChildrenOf(int parentPid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && StatFields(pid) is { } fields
                && Parse(fields[1]) == parentPid)
            {
                children.Add(pid);
            }
        }

        return children;
    }

    /// <summary>The box's busy and total CPU seconds (all cores) from the first line of /proc/stat.</summary>
    public static (double Busy, double Total) BoxCpuSeconds()
    {
        var values = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(Parse).ToArray();
        // user nice system idle iowait irq softirq steal
        var idle = values[3] + values[4];
        var busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7];
        return (busy / TicksPerSecond, (busy + idle) / TicksPerSecond);
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may hold spaces and parentheses: the fields start after the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // [0] is field 3
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long Parse(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}
