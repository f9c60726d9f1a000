namespace RoomShare.LoadTest.Tail;

/// <summary>
/// One reading of both clocks, taken together by the load tool: it turns a UTC time into CLOCK_MONOTONIC
/// nanoseconds, the clock of the ack timeline and of <c>perf sched record -k CLOCK_MONOTONIC</c>.
/// </summary>
public sealed record ClockAnchor(long MonotonicNs, DateTime Utc)
{
    /// <summary>Monotonic ns of <paramref name="utc"/>: as good as the UTC time given, if the wall clock did not step.</summary>
    public long ToMonotonicNs(DateTime utc) => MonotonicNs + ((utc.ToUniversalTime() - Utc).Ticks * 100);
}
