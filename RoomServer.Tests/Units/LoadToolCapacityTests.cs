extern alias loadtool;

using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool reads a capacity off its steps, and which rate it tries next to narrow it
/// (<c>Capacity.Of</c>, <c>Capacity.BrokenAbove</c>, <c>Capacity.Refinement</c>). A step here is (rate, valid, meets the limit).
/// </summary>
public sealed class LoadToolCapacityTests
{
    private static Capacity CapacityOf(params (int Rate, bool Valid, bool Meets)[] steps) =>
        Capacity.Of(steps, s => s.Rate, s => s.Valid, s => s.Meets);

    private static int? NextRefinement(params (int Rate, bool Valid, bool Meets)[] steps) =>
        Capacity.Refinement(steps, s => s.Rate, s => s.Valid, s => s.Meets);

    [Fact]
    public void TheCapacityIsTheHighestRateMetWithEveryLowerStepMetToo()
    {
        var capacity = CapacityOf((100, true, true), (200, true, true), (300, true, false), (400, true, true));

        capacity.Rate.Should().Be(200);
        capacity.Bound.Should().Be("broken at 300/s");
        capacity.Broken.Should().BeTrue();
    }

    [Fact]
    public void AStarvedGeneratorOrAnUnbrokenLadderGivesOnlyALowerBound()
    {
        CapacityOf((100, true, true), (200, false, false)).Should().Be(new Capacity(100, "generator-limited at 200/s"));
        CapacityOf((100, true, true), (200, true, true)).Should().Be(new Capacity(200, "not broken up to 200/s"));
        CapacityOf((100, true, true), (200, false, false)).Broken.Should().BeFalse();
    }

    [Fact]
    public void AValidStepThatBrokeAboveAStarvedOneBoundsTheCapacityFromAbove()
    {
        // W3 at 10:47 on 2026-11-30: 2115 met, 2236 starved the generator, 2500 broke.
        Capacity.BrokenAbove([(2000, true, true), (2115, true, true), (2236, false, true), (2500, true, false)], s => s.Item1, s => s.Item2, s => s.Item3)
            .Should().Be(2500);
        // Nothing above broke, or the capacity is already the broken kind: no upper bound to add.
        Capacity.BrokenAbove([(100, true, true), (200, false, false)], s => s.Item1, s => s.Item2, s => s.Item3).Should().BeNull();
        Capacity.BrokenAbove([(100, true, true), (200, true, false), (300, true, false)], s => s.Item1, s => s.Item2, s => s.Item3).Should().BeNull();
    }

    [Fact]
    public void TheFloorComparisonSaysHowFarItsFractionHolds()
    {
        var broken = new Capacity(2115, "broken at 2236/s");
        var starved = new Capacity(2115, "generator-limited at 2236/s");
        var floorBroken = new Capacity(4000, "broken at 4500/s");
        var floorUnbroken = new Capacity(4000, "not broken up to 4000/s");

        RunSummaries.Note(broken, null, floorBroken).Should().BeNull("both capacities are known");
        RunSummaries.Note(broken, null, floorUnbroken).Should().Contain("upper bound");
        RunSummaries.Note(starved, null, floorBroken).Should().Contain("lower bound");
        RunSummaries.Note(starved, null, floorUnbroken).Should().Contain("means nothing");
        RunSummaries.Note(starved, 2500, floorBroken).Should().Contain("between 2115/s and 2500/s").And.Contain("between 0.529 and 0.625");
        RunSummaries.Note(starved, 2500, floorUnbroken).Should().Contain("at least 4000/s").And.Contain("below 0.625", "2500/4000 unrounded: rounding to even would give 0.62, under the bound");
    }

    [Fact]
    public void ACapacityStepThatPassedOnlyWhenRunAgainIsSaidWithItsFirstAttempt()
    {
        // The floor on 2026-12-05 evening: 5 684/s counted, its first attempt read p99 97.79 ms.
        (int Rate, int Attempt, bool Valid, double? P99)[] discarded = [(2000, 0, true, 9.1), (5684, 1, true, 97.79), (6010, 1, true, 92.0)];

        RunSummaries.RetryNote("the floor's", 5684, discarded, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.P99)
            .Should().Be("the floor's capacity step (5684/s) passed on its second attempt: the first missed the SLO, p99 fan-out 97.8 ms");
        (int Rate, int Attempt, bool Valid, double? P99)[] invalidFirst = [(5684, 1, false, 30.0)];
        RunSummaries.RetryNote("this arm's", 5684, invalidFirst, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.P99)
            .Should().Contain("the first was invalid (generator late)");
        RunSummaries.RetryNote("this arm's", 4547, discarded, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.P99)
            .Should().BeNull("the step at the capacity passed at its first attempt");
        RunSummaries.RetryNote("this arm's", 2000, discarded, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.P99)
            .Should().BeNull("the warm-up (attempt 0) is no first attempt");
        RunSummaries.RetryNote("this arm's", null, discarded, s => s.Rate, s => s.Attempt, s => s.Valid, s => s.P99).Should().BeNull();
    }

    [Fact]
    public void ACapacityBrokenByAStepWhoseGeneratorWasLateSaysSo()
    {
        // (rate, valid only because it broke beyond the generator's estimated lateness)
        (int Rate, bool DespiteLate)[] steps = [(4808, false), (5376, false), (6010, true), (6355, false)];
        var capacity = new Capacity(5376, "broken at 6010/s");

        RunSummaries.LateGeneratorBreakNote("the floor's", capacity, steps, s => s.Rate, s => s.DespiteLate)
            .Should().Be("the floor's break at 6010/s came with its generator late, judged the servers' by the generator's estimated lateness (an estimate, not a bound)");
        RunSummaries.LateGeneratorBreakNote("the floor's", new Capacity(4808, "broken at 5376/s"), steps, s => s.Rate, s => s.DespiteLate)
            .Should().BeNull("its generator kept up at 5 376/s");
        RunSummaries.LateGeneratorBreakNote("the floor's", new Capacity(6355, "not broken up to 6355/s"), steps, s => s.Rate, s => s.DespiteLate)
            .Should().BeNull("no break");
    }

    [Fact]
    public void AnUncountedPassAboveABrokenCapacityMakesItABound()
    {
        // W3's floor: 2 500 counted, a capped 3 000 passed (not counted), a capped 4 000 broke.
        var floor = new Capacity(2500, "broken at 4000/s").WithUncountedPassAbove(3000);

        floor.Broken.Should().BeFalse("the pass at 3 000/s says the capacity may lie above 2 500");
        floor.Rate.Should().Be(2500);
        floor.Bound.Should().Contain("passed at 3000/s").And.Contain("broken at 4000/s");
        RunSummaries.Note(new Capacity(2000, "broken at 2115/s"), null, floor).Should().Contain("upper bound", "RoomShare's fraction against such a floor is at most 0.80");

        new Capacity(2500, "broken at 4000/s").WithUncountedPassAbove(null).Broken.Should().BeTrue("no pass above");
        new Capacity(2500, "broken at 4000/s").WithUncountedPassAbove(2000).Broken.Should().BeTrue("a pass below the capacity changes nothing");
        new Capacity(2500, "not broken up to 2500/s").WithUncountedPassAbove(3000).Bound.Should().Be("not broken up to 2500/s", "already a bound");
    }

    [Fact]
    public void WithNoCapacityOnEitherSideTheNoteSaysThereIsNoFraction()
    {
        var floorStarvedAtTheFirstStep = new Capacity(null, "generator-limited at 20/s");
        var armBrokenAtTheFirstStep = new Capacity(null, "broken at 20/s");
        var known = new Capacity(400, "broken at 500/s");

        RunSummaries.Note(known, null, floorStarvedAtTheFirstStep).Should().Be("the floor has no capacity this run (generator-limited at 20/s): no fraction");
        RunSummaries.Note(armBrokenAtTheFirstStep, null, known).Should().Be("this arm has no capacity this run (broken at 20/s): no fraction");
        RunSummaries.Note(known, null, null).Should().Be("no floor arm ran: no fraction");
    }

    [Fact]
    public void RefinementTriesTheGeometricMiddleOfTheCapacityAndTheStepThatBrokeIt()
    {
        NextRefinement((2328, true, true), (2910, true, true), (3638, true, false)).Should().Be(3254);
    }

    [Fact]
    public void RefinementAlsoNarrowsTowardsAStepThatStarvedTheGenerator()
    {
        NextRefinement((2910, true, true), (3638, false, false)).Should().Be(3254);
    }

    [Fact]
    public void RefinedStepsMayComeAfterTheLadderInAnyOrder()
    {
        // The ladder broke at 3638; the first refinement (3254) met the limit, so the next one is above it.
        NextRefinement((2910, true, true), (3638, true, false), (3254, true, true)).Should().Be(3441);
        // It did not: the next one is below it, and the capacity stays 2910.
        NextRefinement((2910, true, true), (3638, true, false), (3254, true, false)).Should().Be(3077);
        // The capacity reads the steps by rate, in whatever order they ran.
        CapacityOf((2910, true, true), (3638, true, false), (3254, true, false)).Should().Be(new Capacity(2910, "broken at 3254/s"));
        CapacityOf((2910, true, true), (3638, true, false), (3254, true, true)).Should().Be(new Capacity(3254, "broken at 3638/s"));
    }

    [Fact]
    public void NothingIsRefinedWithoutAGapToNarrow()
    {
        NextRefinement((100, true, true), (200, true, true)).Should().BeNull("the ladder ended unbroken: no step above to narrow towards");
        NextRefinement((100, true, false), (200, true, false)).Should().BeNull("no step met the limit");
        NextRefinement((1000, true, true), (1015, true, false)).Should().BeNull("1.5 % apart is narrow enough");
        NextRefinement((1000, true, true), (1025, true, false)).Should().Be(1012);
        NextRefinement((10, true, true), (11, true, false)).Should().BeNull("no whole rate lies between 10 and 11/s");
        NextRefinement((11, true, true), (12, true, false)).Should().BeNull("the middle, 11.49, rounds back onto the capacity");
    }

    [Fact]
    public void ARefinedStepThatStarvesTheGeneratorMakesTheCapacityABoundAgain()
    {
        var capacity = CapacityOf((2328, true, true), (2910, true, false), (2603, false, false));

        capacity.Should().Be(new Capacity(2328, "generator-limited at 2603/s"));
        capacity.Broken.Should().BeFalse("nothing is known of 2 603/s itself");
    }
}
