namespace RoomShare.LoadTest.Results;

/// <summary>
/// The highest offered rate of a stepped run that met a limit, with every lower step meeting it too.
/// <see cref="Bound"/> says how far that figure is to be trusted: "broken at N/s" (the next step up, by
/// rate, failed), "not broken up to N/s" (the ladder ended first: capacity is at least this), or
/// "generator-limited at N/s" (the next step up was invalid because the generator was starved).
/// </summary>
public sealed record Capacity(int? Rate, string Bound)
{
    /// <summary>Refinement stops once the capacity is known to within this share (2 %).</summary>
    public const double NarrowEnough = 0.02;

    /// <summary>The capacity the steps give, whatever order they come in (refined steps fall between ladder steps).</summary>
    public static Capacity Of<TStep>(IEnumerable<TStep> steps, Func<TStep, int> rate, Func<TStep, bool> valid, Func<TStep, bool> meets)
    {
        int? last = null;
        foreach (var step in steps.OrderBy(rate))
        {
            if (!valid(step))
            {
                return new Capacity(last, $"generator-limited at {rate(step)}/s");
            }

            if (!meets(step))
            {
                return new Capacity(last, $"broken at {rate(step)}/s");
            }

            last = rate(step);
        }

        return new Capacity(last, last is null ? "no step ran" : $"not broken up to {last}/s");
    }

    /// <summary>
    /// The next rate to try to narrow a stepped run's capacity: the geometric middle of the capacity at the
    /// limit and the step above it that failed it (broke the limit, or starved the generator). Null when
    /// there is nothing to narrow: no step met the limit, none above it failed, the two are within
    /// <see cref="NarrowEnough"/> of each other, or no whole rate lies strictly between them.
    /// </summary>
    public static int? Refinement<TStep>(IEnumerable<TStep> steps, Func<TStep, int> rate, Func<TStep, bool> valid, Func<TStep, bool> meets)
    {
        if (Of(steps, rate, valid, meets).Rate is not { } low)
        {
            return null;
        }

        var higher = steps.Select(rate).Where(r => r > low).ToList();
        if (higher.Count == 0)
        {
            return null;
        }

        var above = higher.Min();
        var middle = (int)Math.Round(Math.Sqrt((double)low * above));
        return above >= low * (1 + NarrowEnough) && middle > low && middle < above ? middle : null;
    }

    /// <summary>
    /// When the capacity ended at a step that starved the generator: the lowest rate above it whose
    /// step was valid and failed the limit, so the capacity lies below it. Null otherwise.
    /// </summary>
    public static int? BrokenAbove<TStep>(IEnumerable<TStep> steps, Func<TStep, int> rate, Func<TStep, bool> valid, Func<TStep, bool> meets)
    {
        var capacity = Of(steps, rate, valid, meets);
        if (capacity.Broken || capacity.Rate is not { } low)
        {
            return null;
        }

        var broke = steps.Where(s => rate(s) > low && valid(s) && !meets(s)).Select(rate).ToList();
        return broke.Count == 0 ? null : broke.Min();
    }

    /// <summary>
    /// A broken capacity with a step above it that passed but does not count (W3's capped steps, shorter than the
    /// step time): the break no longer pins the capacity, which is at least this and may lie above the pass. Said in
    /// the bound, and no longer <see cref="Broken"/>, so a fraction against it reads as a bound. Unchanged otherwise.
    /// </summary>
    public Capacity WithUncountedPassAbove(int? passedRate) =>
        Broken && Rate is { } rate && passedRate is { } passed && passed > rate
            ? this with { Bound = $"at least this: a shorter step, not counted, passed at {passed}/s above it, before it {Bound}" }
            : this;

    /// <summary>True when a step actually broke the limit, so <see cref="Rate"/> is the capacity, not a lower bound of it.</summary>
    public bool Broken => Bound.StartsWith("broken", StringComparison.Ordinal);

    public override string ToString() => Rate is { } rate ? $"{rate}/s ({Bound})" : $"— ({Bound})";
}
