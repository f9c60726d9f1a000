extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// When a write step whose generator was late still counts (<c>GeneratorVerdict.WriteStepCounts</c>), the
/// generator under its core limit: as met, when its p99 is within the SLO with no loss all the same; as broken, when its
/// p99 is over the relaxed limit by more than twice the generator's worst send lag plus its worst pool delay.
/// In between it is invalid.
/// </summary>
public sealed class LoadToolGeneratorVerdictTests
{
    private static readonly GeneratorLimits Limits = new(MaxSendLagP99Ms: 10, MaxPoolDelayP99Ms: 20, MaxCores: 0.9);
    private static readonly string[] Late = ["send lag p99 10.96 ms > 10 ms"];

    /// <summary>A latency whose p99 is <paramref name="p99"/> and whose max is far above it (the rule must read the p99).</summary>
    private static LatencySummary P99(double p99) => new(1000, p99 / 10, p99 / 2, p99, p99 * 2, p99 * 3);

    /// <summary>A lateness whose max is <paramref name="max"/> and whose p99 is well below it (the rule must read the max).</summary>
    private static LatencySummary Max(double max) => new(1000, max / 10, max / 5, max / 2, max, max);

    private static bool Counts(
        IReadOnlyList<string> late, double generatorCores, double p99, double sendLagMax, double poolDelayMax, double slo = 50, double relaxed = 100, bool clean = true) =>
        GeneratorVerdict.WriteStepCounts(Limits, late, generatorCores, clean, P99(p99), slo, relaxed, Max(sendLagMax), Max(poolDelayMax));

    [Fact]
    public void AStepWhoseGeneratorKeptUpAlwaysCounts()
    {
        Counts([], 0.5, p99: 40, sendLagMax: 80, poolDelayMax: 80).Should().BeTrue();
        Counts([], 0.5, p99: 400, sendLagMax: 80, poolDelayMax: 80).Should().BeTrue();
    }

    [Fact]
    public void ALateGeneratorsStepCountsWhenItsP99IsOverTheLimitByMoreThanTheEstimatedLateness()
    {
        // The floor's step at 4 808/s (2026-11-30): p99 169.7 ms; sends at most 25.8 ms late, the pool 7.7 ms.
        // 169.7 − (2 × 25.8 + 7.7) = 110.4 > 100.
        Counts(Late, 0.66, p99: 169.7, sendLagMax: 25.8, poolDelayMax: 7.7).Should().BeTrue();
    }

    [Fact]
    public void AnOvershootTheGeneratorCanExplainLeavesTheStepInvalid()
    {
        // 2 × 25 + 10 = 60 ms of lateness: the p99 must be above 160.
        Counts(Late, 0.66, p99: 150, sendLagMax: 25, poolDelayMax: 10).Should().BeFalse();
        Counts(Late, 0.66, p99: 160, sendLagMax: 25, poolDelayMax: 10).Should().BeFalse();
        Counts(Late, 0.66, p99: 160.1, sendLagMax: 25, poolDelayMax: 10).Should().BeTrue();
        // The send lag counts twice (send and read): one send lag and the pool alone would pass 140.
        Counts(Late, 0.66, p99: 140, sendLagMax: 25, poolDelayMax: 10).Should().BeFalse();
        // The pool delay counts too.
        Counts(Late, 0.66, p99: 155, sendLagMax: 25, poolDelayMax: 0).Should().BeTrue();
        Counts(Late, 0.66, p99: 155, sendLagMax: 25, poolDelayMax: 10).Should().BeFalse();
    }

    [Fact]
    public void ALateGeneratorsStepCountsWhenItsP99MetTheSloAllTheSame()
    {
        // The room-hint arm at 391/s (2026-12-04 16:24 UTC, the rule not yet in the tool): fan-out p99 36.16 ms, send lag
        // p99 10.58 ms (max 23.07), pool delay max 23.62 ms, generator 0.19 cores. And at 853/s (16:39 UTC, counted): p99
        // 48.83 ms, send lag p99 10.25 ms (max 22.34), pool delay max 22.26 ms, generator 0.30 cores.
        Counts(["send lag p99 10.58 ms > 10 ms"], 0.193, p99: 36.16, sendLagMax: 23.07, poolDelayMax: 23.62).Should().BeTrue();
        Counts(["send lag p99 10.25 ms > 10 ms"], 0.296, p99: 48.83, sendLagMax: 22.34, poolDelayMax: 22.26).Should().BeTrue();
        Counts(Late, 0.66, p99: 50, sendLagMax: 20, poolDelayMax: 5).Should().BeTrue();
        Counts(Late, 0.66, p99: 50.01, sendLagMax: 20, poolDelayMax: 5).Should().BeFalse();
    }

    [Fact]
    public void BetweenTheSloAndTheRelaxedLimitPlusTheLatenessTheStepIsInvalid()
    {
        // roomshare-2 at 1 008/s (2026-12-04 16:22 UTC): p99 81.15 ms, send lag p99 18.11 ms (max 43.81), pool delay
        // max 29.78 ms — over the SLO, under the relaxed limit; and 217 ms would not be beyond 100 + 2 × 43.81 + 29.78.
        Counts(Late, 0.381, p99: 81.15, sendLagMax: 43.81, poolDelayMax: 29.78).Should().BeFalse();
        Counts(Late, 0.381, p99: 217, sendLagMax: 43.81, poolDelayMax: 29.78).Should().BeFalse();
        Counts(Late, 0.381, p99: 218, sendLagMax: 43.81, poolDelayMax: 29.78).Should().BeTrue();
    }

    [Fact]
    public void AStepWithLossIsNeverExcusedByALateGenerator()
    {
        // Within the SLO, but not clean: the lateness does not make it count (it ends the ladder all the same, as a
        // step with loss always does: WriteStepResult.Decisive).
        Counts(Late, 0.3, p99: 20, sendLagMax: 20, poolDelayMax: 5, clean: false).Should().BeFalse();
        Counts([], 0.3, p99: 20, sendLagMax: 20, poolDelayMax: 5, clean: false).Should().BeTrue();

        // Loss does not stop a step that broke beyond the lateness from counting (as broken).
        Counts(Late, 0.3, p99: 300, sendLagMax: 20, poolDelayMax: 5, clean: false).Should().BeTrue();
    }

    [Fact]
    public void AGeneratorAtItsCoreLimitLeavesTheStepInvalidHoweverFarOverOrUnder()
    {
        Counts(["generator used 0.93 cores ≥ 0.9"], 0.93, p99: 5000, sendLagMax: 5, poolDelayMax: 5).Should().BeFalse();
        Counts(Late, 0.9, p99: 5000, sendLagMax: 5, poolDelayMax: 5).Should().BeFalse();
        Counts(["generator used 0.93 cores ≥ 0.9"], 0.93, p99: 20, sendLagMax: 5, poolDelayMax: 5).Should().BeFalse();
    }

    [Fact]
    public void TheLimitsAreTheOnesGiven()
    {
        // Over the SLO (50) beyond the lateness, but not over the relaxed limit (100): invalid at 100, counts at 50.
        Counts(Late, 0.66, p99: 120, sendLagMax: 25, poolDelayMax: 10, relaxed: 100).Should().BeFalse();
        Counts(Late, 0.66, p99: 120, sendLagMax: 25, poolDelayMax: 10, relaxed: 50).Should().BeTrue();

        // Within an SLO of 40 but not of 30.
        Counts(Late, 0.66, p99: 35, sendLagMax: 25, poolDelayMax: 10, slo: 40).Should().BeTrue();
        Counts(Late, 0.66, p99: 35, sendLagMax: 25, poolDelayMax: 10, slo: 30).Should().BeFalse();
    }

    [Fact]
    public void NoSamplesDecideNothingAndUnmeasuredLatenessCountsAsNone()
    {
        var none = new LatencySummary(0, null, null, null, null, null);
        GeneratorVerdict.WriteStepCounts(Limits, Late, 0.5, true, none, 50, 100, none, none).Should().BeFalse();
        GeneratorVerdict.WriteStepCounts(Limits, Late, 0.5, true, P99(60), 50, 50, none, none).Should().BeTrue();
        GeneratorVerdict.WriteStepCounts(Limits, Late, 0.5, true, P99(60), 50, 100, none, none).Should().BeFalse();
    }
}
