namespace RoomShare.LoadTest.Tail;

/// <summary>What <see cref="TailAttribution.Attribute"/> finds: the step's tail inside the trace, and what ran while it waited.</summary>
/// <param name="Changes">Acknowledged changes whose whole wait lies inside the sched trace and every GC trace.</param>
/// <param name="OutsideSched">Acknowledged changes left out because their wait is not wholly inside the sched trace.</param>
/// <param name="OutsideGcTraces">Of the rest, those left out because their wait is not wholly inside every GC trace.</param>
/// <param name="P99AckMs">p99 (nearest rank) of the counted changes' ack latency, ms.</param>
/// <param name="Slow">The slow changes (ack over the threshold) and what their waits overlapped.</param>
/// <param name="Fast">The rest: the baseline a cause must stand out against.</param>
/// <param name="SlowWaitShares">Mean share of the CPUs' time per class over the slow changes' waits (0..1).</param>
/// <param name="TraceShares">Share of the CPUs' time per class over the whole covered span (0..1).</param>
public sealed record TailReport(
    int Changes,
    int OutsideSched,
    int OutsideGcTraces,
    double P99AckMs,
    OverlapCounts Slow,
    OverlapCounts Fast,
    IReadOnlyDictionary<TaskClass, double> SlowWaitShares,
    IReadOnlyDictionary<TaskClass, double> TraceShares);
