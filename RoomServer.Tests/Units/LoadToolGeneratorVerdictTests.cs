extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// When a step whose generator was late still counts as broken (<c>GeneratorVerdict.BrokeBeyondGenerator</c>):
/// its p99 must be over the limit by more than the generator's worst send lag plus its worst pool delay.
/// </summary>
public sealed class LoadToolGeneratorVerdictTests
{
    private static LatencySummary P99(double p99) => new(1000, p99 / 10, p99 / 2, p99, p99, p99);

    private static LatencySummary Max(double max) => new(1000, max / 10, max / 5, max / 2, max, max);

    [Fact]
    public void AP99OverTheLimitByMoreThanTheGeneratorsWorstLatenessIsTheServers()
    {
        // The floor's step at 4 808/s (2026-11-30): p99 169.7 ms; send lag at most 25.8, pool delay at most 7.7.
        GeneratorVerdict.BrokeBeyondGenerator(P99(169.7), 100, Max(25.8), Max(7.7)).Should().BeTrue();
    }

    [Fact]
    public void AnOvershootTheGeneratorCanExplainIsNotCountedAsABreak()
    {
        // 130 ms is 30 over the limit, and the generator was up to 25 + 10 ms late: it may be the generator's.
        GeneratorVerdict.BrokeBeyondGenerator(P99(130), 100, Max(25), Max(10)).Should().BeFalse();
        // Exactly the limit once its lateness is taken off is not over it.
        GeneratorVerdict.BrokeBeyondGenerator(P99(135), 100, Max(25), Max(10)).Should().BeFalse();
        GeneratorVerdict.BrokeBeyondGenerator(P99(135.1), 100, Max(25), Max(10)).Should().BeTrue();
    }

    [Fact]
    public void AStepWithinTheLimitNeverBreaksAndNoSamplesDecideNothing()
    {
        GeneratorVerdict.BrokeBeyondGenerator(P99(40), 50, Max(0), Max(0)).Should().BeFalse();
        var none = new LatencySummary(0, null, null, null, null, null);
        GeneratorVerdict.BrokeBeyondGenerator(none, 50, none, none).Should().BeFalse();
        // Lateness that was not measured counts as none.
        GeneratorVerdict.BrokeBeyondGenerator(P99(60), 50, none, none).Should().BeTrue();
    }
}
