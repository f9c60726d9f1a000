namespace RoomShare.LoadTest.Tail;

/// <summary>
/// Attributes a step's slow changes to what ran on the CPUs while they waited: kdamond runs and GC pauses
/// overlapping the wait, against the same for the fast changes (a cause must be much more common among the slow),
/// and the CPU time per class inside the slow waits against the whole trace.
/// </summary>
public static class TailAttribution
{
    /// <summary>kdamond's routine sub-0.5 ms slices are background; the multi-ms ones are what stalls a CPU.</summary>
    public const long KdamondMinRunNs = 500_000;

    /// <summary>
    /// The CPU shares look inside the wait only: the first and last ms are the change's own send and receive work
    /// (generator, nginx, server), present in every change, fast or slow.
    /// </summary>
    public const long ShareMarginNs = 1_000_000;

    public static TailReport Attribute(
        IReadOnlyList<AckedChange> changes,
        SchedTimeline sched,
        TaskClassifier classifier,
        IReadOnlyList<GcTrace> gcTraces,
        double slowMs)
    {
        var inSched = changes.Where(c => sched.Covers(c.IntendedNs, c.CompletedNs)).ToList();
        var inside = inSched.Where(c => gcTraces.All(t => t.Span.Contains(c.IntendedNs, c.CompletedNs))).ToList();
        var gcPauses = gcTraces.SelectMany(t => t.Pauses).ToList();
        var slowUs = slowMs * 1000;
        var slow = inside.Where(c => c.AckUs > slowUs).ToList();
        var fast = inside.Where(c => c.AckUs <= slowUs).ToList();

        return new TailReport(
            inside.Count,
            changes.Count - inSched.Count,
            inSched.Count - inside.Count,
            P99Ms(inside),
            Overlaps(slow, sched, classifier, gcPauses),
            Overlaps(fast, sched, classifier, gcPauses),
            MeanShares(slow, sched, classifier),
            Shares(sched, classifier, sched.StartNs, sched.EndNs));
    }

    private static double P99Ms(List<AckedChange> changes)
    {
        if (changes.Count == 0)
        {
            return double.NaN;
        }

        var sorted = changes.Select(c => c.AckUs).Order().ToArray();
        return sorted[(int)Math.Ceiling(0.99 * sorted.Length) - 1] / 1000.0;
    }

    private static OverlapCounts Overlaps(List<AckedChange> changes, SchedTimeline sched, TaskClassifier classifier, IReadOnlyList<TimeInterval> gcPauses)
    {
        int kdamond = 0, gc = 0, either = 0;
        foreach (var change in changes)
        {
            var k = sched.Overlapping(change.IntendedNs, change.CompletedNs)
                .Any(r => r.LengthNs >= KdamondMinRunNs && classifier.Classify(r) == TaskClass.Kdamond);
            var g = gcPauses.Any(p => p.Overlaps(change.IntendedNs, change.CompletedNs));
            kdamond += k ? 1 : 0;
            gc += g ? 1 : 0;
            either += k || g ? 1 : 0;
        }

        return new OverlapCounts(changes.Count, kdamond, gc, either, changes.Count - either);
    }

    private static Dictionary<TaskClass, double> MeanShares(List<AckedChange> changes, SchedTimeline sched, TaskClassifier classifier)
    {
        var sums = Enum.GetValues<TaskClass>().ToDictionary(c => c, _ => 0.0);
        var waits = 0;
        foreach (var change in changes)
        {
            var start = change.IntendedNs + ShareMarginNs;
            var end = change.CompletedNs - ShareMarginNs;
            if (end <= start)
            {
                continue; // a slow threshold under 2 ms leaves nothing inside
            }

            waits++;
            foreach (var (taskClass, share) in Shares(sched, classifier, start, end))
            {
                sums[taskClass] += share;
            }
        }

        return sums.ToDictionary(kv => kv.Key, kv => waits == 0 ? 0 : kv.Value / waits);
    }

    /// <summary>Each class's part of all CPUs' time in [startNs, endNs): sums to ~1 because idle is a class too.</summary>
    internal static Dictionary<TaskClass, double> Shares(SchedTimeline sched, TaskClassifier classifier, long startNs, long endNs)
    {
        var ns = Enum.GetValues<TaskClass>().ToDictionary(c => c, _ => 0L);
        foreach (var run in sched.Overlapping(startNs, endNs))
        {
            ns[classifier.Classify(run)] += Math.Min(run.EndNs, endNs) - Math.Max(run.StartNs, startNs);
        }

        var total = (double)(endNs - startNs) * sched.Cpus;
        return ns.ToDictionary(kv => kv.Key, kv => total <= 0 ? 0 : kv.Value / total);
    }
}
