using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// A write scenario's steps judged again once what reached members after each step's books closed is known (read
/// after the last step), before the capacities read them.
/// </summary>
public static class LateJudgement
{
    /// <summary>
    /// Every step, counted or not, takes its late faults (<see cref="WriteStepResult.WithLate"/>). A first attempt that
    /// was run again because it was slow or invalid, and turns out to have had a fault, should never have been retried
    /// (a step with faults counts as it stands): it takes its rate's place back from its second attempt.
    /// </summary>
    /// <param name="steps">The counted steps.</param>
    /// <param name="discarded">The warm-up and first attempts that were run again.</param>
    /// <param name="lateOf">A step's late deliveries, by its number.</param>
    public static (List<WriteStepResult> Steps, List<WriteStepResult> Discarded) Apply(
        IEnumerable<WriteStepResult> steps, IEnumerable<WriteStepResult> discarded, Func<int, LateDeliveries> lateOf)
    {
        var counted = steps.Select(s => s.WithLate(lateOf(s.Step))).ToList();
        var uncounted = discarded.Select(s => s.WithLate(lateOf(s.Step))).ToList();
        foreach (var first in uncounted.Where(s => s.Attempt == 1 && s.LateFaults > 0).ToList())
        {
            if (counted.FindIndex(s => s.Rate == first.Rate && s.Attempt == 2) is var retried and >= 0)
            {
                uncounted[uncounted.IndexOf(first)] = counted[retried];
                counted[retried] = first;
            }
        }

        return (counted, uncounted);
    }
}
