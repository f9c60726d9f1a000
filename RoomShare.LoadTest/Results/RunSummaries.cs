using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Results;

/// <summary>Adds up correctness over every arm and compares each W1 and W3 arm's capacity with the floor's.</summary>
public static class RunSummaries
{
    public static RunSummary Of(IReadOnlyList<ArmResult> arms)
    {
        var writes = arms.SelectMany(a => a.Writes).ToList();
        var steps = writes.SelectMany(w => w.Steps.Concat(w.DiscardedSteps)).ToList();
        var closedIdle = arms.Sum(a => a.W0?.ClosedConnections ?? 0);
        var failedConnects = arms.Sum(a => (a.W0?.Connect.Failed ?? 0) + a.Writes.Sum(w => w.Connect?.Failed ?? 0));
        var invalid = steps.Count(s => !s.Valid) + arms.Sum(a => a.W3?.Steps.Count(s => !s.Valid) ?? 0);
        return new RunSummary(
            steps.Sum(s => s.Missing),
            steps.Sum(s => s.OutOfOrder) + writes.Sum(w => w.Late.OrderFaults),
            steps.Sum(s => Math.Max(s.Duplicates, s.DuplicateVersions)) + writes.Sum(w => w.Late.Duplicates), // one duplicate delivery counts in both
            steps.Sum(s => s.Mismatched + s.StrayChoices) + writes.Sum(w => w.Late.Mismatched),
            writes.Sum(w => w.Late.Receipts),
            steps.Sum(s => s.Gaps),
            steps.Sum(s => s.ClosedConnections) + closedIdle,
            failedConnects,
            steps.Sum(s => s.Failed),
            steps.Sum(s => (long)s.Unacknowledged),
            arms.Sum(a => a.W3?.Steps.Sum(s => (long)s.Failed) ?? 0),
            invalid,
            VersusFloor(arms),
            JoinsVersusFloor(arms));
    }

    private static List<FloorComparison> VersusFloor(IReadOnlyList<ArmResult> arms)
    {
        var floor = W1(arms.FirstOrDefault(a => a.Server == ArmServer.Floor));
        return arms.Where(a => a.Server != ArmServer.Floor && W1(a) is not null).Select(a =>
        {
            var w1 = W1(a)!;
            return new FloorComparison(
                a.Arm,
                w1.AtSlo.Rate,
                floor?.AtSlo.Rate,
                Fraction(w1.AtSlo.Rate, floor?.AtSlo.Rate),
                w1.AtRelaxedSlo.Rate,
                floor?.AtRelaxedSlo.Rate,
                Fraction(w1.AtRelaxedSlo.Rate, floor?.AtRelaxedSlo.Rate),
                Joined(Note(w1.AtSlo, Capacity.BrokenAbove(w1.Steps, s => s.Rate, s => s.Decisive, s => s.MeetsSlo), floor?.AtSlo),
                    RetryNote("this arm's", w1), RetryNote("the floor's", floor), LateGeneratorBreakNote("this arm's", w1), LateGeneratorBreakNote("the floor's", floor)));
        }).ToList();
    }

    /// <summary>
    /// A capacity whose step passed only when run again (a clean step that was slow or invalid runs twice and the second
    /// counts): said, with what the first attempt read, since at the edge a second draw passes more often than one.
    /// </summary>
    private static string? RetryNote(string whose, WriteScenarioResult? scenario) =>
        scenario is null ? null : RetryNote(whose, scenario.AtSlo.Rate, scenario.DiscardedSteps, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.FanoutMs.P99);

    /// <summary>The note for a capacity at <paramref name="rate"/> whose first attempt (attempt 1) is among <paramref name="discarded"/>; null otherwise.</summary>
    public static string? RetryNote<TStep>(
        string whose, int? rate, IEnumerable<TStep> discarded, Func<TStep, int> rateOf, Func<TStep, int> attempt, Func<TStep, bool> valid, Func<TStep, double?> p99)
    {
        if (rate is not { } capacity || discarded.Where(s => rateOf(s) == capacity && attempt(s) == 1).ToList() is not [var first, ..])
        {
            return null;
        }

        var why = valid(first) ? "missed the SLO" : "was invalid (generator late)";
        var read = p99(first) is { } ms ? ms.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " ms" : "—";
        return $"{whose} capacity step ({capacity}/s) passed on its second attempt: the first {why}, p99 fan-out {read}";
    }

    /// <summary>
    /// A capacity broken by a step whose generator was late, counted as the servers' break only because its p99
    /// exceeded the relaxed limit by more than the generator's estimated lateness (GeneratorVerdict.BrokeBeyondGenerator):
    /// said, since that estimate takes the reads to be as late as the sends, and the send thread runs raised (nice −10).
    /// </summary>
    private static string? LateGeneratorBreakNote(string whose, WriteScenarioResult? scenario) =>
        scenario is null ? null : LateGeneratorBreakNote(whose, scenario.AtSlo, scenario.Steps, s => s.Rate, s => s.Valid && s.GeneratorLate.Count > 0);

    /// <summary>The note for a broken <paramref name="capacity"/> whose breaking step (the lowest rate above it) <paramref name="validDespiteLateGenerator"/>; null otherwise.</summary>
    public static string? LateGeneratorBreakNote<TStep>(
        string whose, Capacity capacity, IEnumerable<TStep> steps, Func<TStep, int> rateOf, Func<TStep, bool> validDespiteLateGenerator)
    {
        if (!capacity.Broken || capacity.Rate is not { } rate || steps.Where(s => rateOf(s) > rate).OrderBy(rateOf).FirstOrDefault() is not { } breaking
            || !validDespiteLateGenerator(breaking))
        {
            return null;
        }

        return $"{whose} break at {rateOf(breaking)}/s came with its generator late, judged the servers' by the generator's estimated lateness (an estimate, not a bound)";
    }

    private static string? Joined(params string?[] notes) =>
        notes.OfType<string>().ToList() is { Count: > 0 } some ? string.Join("; ", some) : null;

    private static List<JoinFloorComparison> JoinsVersusFloor(IReadOnlyList<ArmResult> arms)
    {
        var floor = arms.FirstOrDefault(a => a.Server == ArmServer.Floor)?.W3;
        return arms.Where(a => a.Server != ArmServer.Floor && a.W3 is not null).Select(a =>
        {
            var w3 = a.W3!;
            return new JoinFloorComparison(
                a.Arm,
                w3.AtSlo.Rate,
                floor?.AtSlo.Rate,
                Fraction(w3.AtSlo.Rate, floor?.AtSlo.Rate),
                MostCompleted(w3),
                floor is null ? null : MostCompleted(floor),
                Note(w3.AtSlo, Capacity.BrokenAbove(w3.Steps.Where(JoinStepResult.Counts), s => s.Rate, s => s.Valid, s => s.MeetsSlo), floor?.AtSlo));
        }).ToList();
    }

    /// <summary>Over valid steps only: a step that starved the generator says as little about the box as about the server.</summary>
    private static double MostCompleted(JoinRampResult ramp) => ramp.Steps.Where(s => s.Valid).Select(s => s.CompletedPerSecond).DefaultIfEmpty(0).Max();

    public static WriteScenarioResult? W1(ArmResult? arm) => arm?.Writes.FirstOrDefault(w => w.Scenario == "W1");

    /// <summary>
    /// How far the fraction can be trusted. <paramref name="armBrokenAbove"/>: a valid step above the arm's
    /// capacity that broke the limit (the step between starved the generator), which bounds it from above.
    /// </summary>
    public static string? Note(Capacity arm, int? armBrokenAbove, Capacity? floor) => (arm.Broken, armBrokenAbove, floor?.Broken ?? true) switch
    {
        // No figure on one side, so no fraction at all: say why rather than bound a fraction that is not there.
        _ when floor is null => "no floor arm ran: no fraction",
        _ when floor is { Rate: null } => $"the floor has no capacity this run ({floor.Bound}): no fraction",
        _ when arm.Rate is null => $"this arm has no capacity this run ({arm.Bound}): no fraction",
        (true, _, true) => null,
        (false, { } above, true) => $"this arm's capacity lies between {arm.Rate}/s and {above}/s (a step between starved the generator): the fraction lies between {Ratio(arm.Rate, floor?.Rate)} and {Ratio(above, floor?.Rate)}",
        (false, { } above, false) => $"the floor's capacity was not reached (at least {floor!.Rate}/s), and this arm's lies between {arm.Rate}/s and {above}/s (a step between starved the generator): the fraction is below {Ratio(above, floor.Rate)}",
        (false, null, false) => "neither capacity was reached (both are lower bounds): the fraction means nothing; raise the rates",
        (false, null, true) => "this arm's capacity was not reached: the fraction is a lower bound",
        (true, _, false) => "the floor's capacity was not reached: the fraction is an upper bound",
    };

    /// <summary>An unrounded ratio for a bound (Fraction rounds to even, which could cross the bound).</summary>
    private static string Ratio(int? part, int? whole) =>
        part is { } p && whole is > 0 and var w ? ((double)p / w).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "—";

    private static double? Fraction(int? part, int? whole) =>
        part is { } p && whole is > 0 and var w ? Math.Round((double)p / w, 2) : null;
}
