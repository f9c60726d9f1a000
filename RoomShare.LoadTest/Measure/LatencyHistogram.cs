using System.Diagnostics;
using HdrHistogram;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// An HdrHistogram of latencies in microseconds (1 µs to 5 min, 3 significant digits), recorded from
/// Stopwatch timestamps, summarized in milliseconds. One lock around record and read: HdrHistogram's
/// concurrent histogram records safely but throws when read while a late receipt is being recorded, and
/// an uncontended lock costs tens of nanoseconds against tens of microseconds per received event.
/// </summary>
public sealed class LatencyHistogram
{
    private static readonly long HighestMicros = (long)TimeSpan.FromMinutes(5).TotalMicroseconds;

    private readonly LongHistogram _histogram = new(1, HighestMicros, 3);
    private readonly Lock _gate = new();

    /// <summary>Forgets everything recorded so far, keeping the histogram's memory (no allocation on a schedule's thread).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _histogram.Reset();
        }
    }

    /// <summary>Records <paramref name="to"/> − <paramref name="from"/> (Stopwatch timestamps); anything below 1 µs counts as 1 µs.</summary>
    public void Record(long from, long to)
    {
        var micros = Math.Clamp((long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds, 1, HighestMicros);
        lock (_gate)
        {
            _histogram.RecordValue(micros);
        }
    }

    public LatencySummary Summarize()
    {
        lock (_gate)
        {
            return _histogram.TotalCount == 0
                ? new LatencySummary(0, null, null, null, null, null)
                : new LatencySummary(
                    _histogram.TotalCount,
                    Millis(_histogram.GetValueAtPercentile(50)),
                    Millis(_histogram.GetValueAtPercentile(90)),
                    Millis(_histogram.GetValueAtPercentile(99)),
                    Millis(_histogram.GetValueAtPercentile(99.9)),
                    Millis(_histogram.GetMaxValue()));
        }
    }

    private static double Millis(long micros) => Math.Round(micros / 1000.0, 2);
}

/// <summary>Percentiles in milliseconds (null when nothing was recorded).</summary>
public sealed record LatencySummary(long Count, double? P50, double? P90, double? P99, double? P999, double? Max);
