using System.Globalization;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// Whether the kernel runs a DAMON monitor (<c>kdamond</c>) and how often it samples. On the development VM the kernel
/// runs one (physical memory, every 0.5 s, paging out what went cold): a sampling holds a core for up to 8–19 ms,
/// which a non-preemptible kernel does not take back, and most of RoomShare's low-load tail lines up with it
/// (docs/bench/w1-tail-kdamond.md). A report that does not say so cannot be compared with one from another box.
/// DAMON's settings are readable by root only, and a kdamond a kernel module started is not under them: its
/// thread, in <c>/proc</c>, is what any user can see.
/// </summary>
public static class KernelMemoryMonitor
{
    public const string DamonSysfs = "/sys/kernel/mm/damon/admin/kdamonds";

    /// <summary>
    /// "DAMON paddr, sampling every 500 ms, pageout" for each running kdamond whose settings can be read; else
    /// "kdamond running (its settings need root to read)" when its thread runs; null when none runs.
    /// </summary>
    public static string? Describe(string kdamonds = DamonSysfs, string proc = "/proc") =>
        FromSettings(kdamonds) ?? (KdamondThreadRuns(proc) ? "kdamond running (its settings need root to read)" : null);

    private static string? FromSettings(string kdamonds)
    {
        if (!Directory.Exists(kdamonds))
        {
            return null;
        }

        var running = SafeDirectories(kdamonds)
            .Where(d => Read(Path.Combine(d, "state")) == "on")
            .OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => SafeDirectories(Path.Combine(d, "contexts")).OrderBy(c => c, StringComparer.Ordinal))
            .Select(DescribeContext)
            .ToList();
        return running.Count == 0 ? null : string.Join("; ", running);
    }

    private static string DescribeContext(string context)
    {
        var parts = new List<string> { $"DAMON {Read(Path.Combine(context, "operations")) ?? "?"}" };
        if (long.TryParse(Read(Path.Combine(context, "monitoring_attrs", "intervals", "sample_us")), NumberStyles.None, CultureInfo.InvariantCulture, out var sampleUs))
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"sampling every {sampleUs / 1000.0:0.#} ms"));
        }

        var schemes = Path.Combine(context, "schemes");
        if (Directory.Exists(schemes))
        {
            parts.AddRange(SafeDirectories(schemes).OrderBy(s => s, StringComparer.Ordinal)
                .Select(s => Read(Path.Combine(s, "action"))).OfType<string>());
        }

        return string.Join(", ", parts);
    }

    private static bool KdamondThreadRuns(string proc) =>
        SafeDirectories(proc)
            .Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
            .Any(d => Read(Path.Combine(d, "comm"))?.StartsWith("kdamond", StringComparison.Ordinal) == true);

    // A run must not fail to start over a note in its report: what cannot be listed is not there.
    private static string[] SafeDirectories(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
