using System.Diagnostics;
using System.Globalization;
using RoomShare.LoadTest.Population;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// One write step's ack timeline (<c>--latencies</c>): every measured change's intended send time and ack latency,
/// so a tail can be matched against what else ran at that moment (<c>tail</c>, with <c>perf sched</c> and GC traces).
/// The intended time is CLOCK_MONOTONIC in ns, the clock <c>perf record -k CLOCK_MONOTONIC</c> stamps with;
/// the <c>clock:</c> line reads it beside UTC once, for traces stamped in UTC.
/// </summary>
public static class AckTimelineFile
{
    public const string Header = "intended_ns,ack_us";

    /// <summary>
    /// Writes <c>&lt;arm&gt;-&lt;scenario&gt;-&lt;step&gt;-&lt;rate&gt;-&lt;attempt&gt;.csv</c> in <paramref name="directory"/>; returns its path.
    /// The step's number (0 the warm-up; counted afresh for each arm and scenario, in the order they ran) keeps apart
    /// steps at one rate, as in a fixed-rate list that repeats a rate, which would otherwise overwrite each other. Two
    /// digits, so up to step 99 the files list in the order they ran; the title line names the step too.
    /// </summary>
    public static string Write(string directory, string arm, string scenario, int step, int rate, int attempt, ChangeLedger ledger)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Invariant($"{arm}-{scenario}-{step:00}-{rate}-{attempt}.csv"));
        using var writer = new StreamWriter(path);
        WriteTo(writer, Invariant($"arm {arm}, {scenario} step {step} at {rate}/s, attempt {attempt}"), ledger.MeasuredAcks(), Stopwatch.GetTimestamp(), DateTime.UtcNow);
        return path;
    }

    /// <summary>The file's text; the clock reading is passed in so it can be checked.</summary>
    public static void WriteTo(TextWriter writer, string title, IEnumerable<(long IntendedAt, long? AcknowledgedAt)> acks, long monotonicNow, DateTime utcNow)
    {
        writer.WriteLine(Invariant($"# RoomShare.LoadTest ack timeline: {title}"));
        writer.WriteLine(Invariant($"# clock: monotonic_ns={Nanoseconds(monotonicNow)} utc={utcNow.ToString("O", CultureInfo.InvariantCulture)}"));
        writer.WriteLine(Header);
        foreach (var (intendedAt, acknowledgedAt) in acks)
        {
            var ack = acknowledgedAt is { } at ? ((at - intendedAt) * 1_000_000 / Stopwatch.Frequency).ToString(CultureInfo.InvariantCulture) : string.Empty;
            writer.WriteLine(Invariant($"{Nanoseconds(intendedAt)},{ack}"));
        }
    }

    // Integer arithmetic: a double holds ns exactly only up to ~104 days of uptime.
    private static long Nanoseconds(long timestamp) =>
        Stopwatch.Frequency == 1_000_000_000 ? timestamp : (long)((Int128)timestamp * 1_000_000_000 / Stopwatch.Frequency);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
