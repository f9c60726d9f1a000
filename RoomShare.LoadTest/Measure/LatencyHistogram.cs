using System.Diagnostics;
using HdrHistogram;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// A thread-safe HdrHistogram of latencies in microseconds (1 µs to 5 min, 3 significant digits),
/// recorded from Stopwatch timestamps, summarized in milliseconds.
/// </summary>
public sealed class LatencyHistogram
{
    private static readonly long HighestMicros = (long)TimeSpan.FromMinutes(5).TotalMicroseconds;

    private readonly LongConcurrentHistogram _histogram = new(1, HighestMicros, 3);

    public long Count => _histogram.TotalCount;

    /// <summary>Records <paramref name="to"/> − <paramref name="from"/> (Stopwatch timestamps); negative values count as 0.</summary>
    public void Record(long from, long to)
    {
        var micros = (long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;
        _histogram.RecordValue(Math.Clamp(micros, 1, HighestMicros));
    }

    public LatencySummary Summarize() => Count == 0
        ? new LatencySummary(0, null, null, null, null, null)
        : new LatencySummary(
            Count,
            Millis(_histogram.GetValueAtPercentile(50)),
            Millis(_histogram.GetValueAtPercentile(90)),
            Millis(_histogram.GetValueAtPercentile(99)),
            Millis(_histogram.GetValueAtPercentile(99.9)),
            Millis(_histogram.GetMaxValue()));

    private static double Millis(long micros) => Math.Round(micros / 1000.0, 2);
}

/// <summary>Percentiles in milliseconds (null when nothing was recorded).</summary>
public sealed record LatencySummary(long Count, double? P50, double? P90, double? P99, double? P999, double? Max);
