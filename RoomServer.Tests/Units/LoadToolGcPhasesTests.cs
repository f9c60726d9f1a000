extern alias loadtool;

using loadtool::RoomShare.LoadTest.Tail;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's <c>gc</c> subcommand: each GC pause split by its events into suspension, the mark phases by root
/// type, and what follows the marking; pauses that are no collection, or that the trace cut, left out.
/// </summary>
public sealed class LoadToolGcPhasesTests
{
    private static GcPhaseEvent Suspend(double ms) => new(GcPhaseEventKind.SuspendStart, ms);

    private static GcPhaseEvent Start(double ms, int generation) => new(GcPhaseEventKind.GcStart, ms, generation);

    private static GcPhaseEvent Mark(double ms, int type) => new(GcPhaseEventKind.MarkEnd, ms, type);

    private static GcPhaseEvent Restart(double ms) => new(GcPhaseEventKind.RestartStop, ms);

    [Fact]
    public void APauseIsSplitIntoSuspensionEachMarkPhaseAndWhatFollows()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(100), Start(100.5, 0),
            Mark(100.7, 0), // stacks
            Mark(100.8, 1), // finalization queue
            Mark(101.0, 2), // handles
            Mark(106.0, 3), // older generation: cards
            Mark(106.25, 6), // dependent handles
            Restart(107.0),
        ]);

        var pause = pauses.Should().ContainSingle().Subject;
        pause.Generation.Should().Be(0);
        pause.PauseMs.Should().BeApproximately(7.0, 1e-9);
        pause.PhaseMs[GcPhases.Suspension].Should().BeApproximately(0.5, 1e-9);
        pause.PhaseMs["stacks"].Should().BeApproximately(0.2, 1e-9);
        pause.PhaseMs["finalization"].Should().BeApproximately(0.1, 1e-9);
        pause.PhaseMs["handles"].Should().BeApproximately(0.2 + 0.25, 1e-9, "handles and dependent handles are one phase");
        pause.PhaseMs["older generation (cards)"].Should().BeApproximately(5.0, 1e-9);
        pause.PhaseMs[GcPhases.AfterMarking].Should().BeApproximately(0.75, 1e-9);
        pause.PhaseMs.Values.Sum().Should().BeApproximately(pause.PauseMs, 1e-9, "the phases add up to the pause");
    }

    [Fact]
    public void ThreadsStoppedForSomethingElseAndPausesTheTraceCutAreLeftOut()
    {
        var pauses = GcPhases.Split(
        [
            Mark(1, 3), Restart(2), // the trace began mid-pause
            Suspend(10), Restart(11), // suspended, but no collection
            Suspend(20), Suspend(20.5), Start(21, 1), Mark(25, 3), Restart(26), // a second suspend keeps the first
            Suspend(30), Start(30.2, 0), Mark(31, 0), // the trace ended mid-pause
        ]);

        var pause = pauses.Should().ContainSingle().Subject;
        pause.Generation.Should().Be(1);
        pause.PauseMs.Should().Be(6);
        pause.PhaseMs[GcPhases.Suspension].Should().Be(1);
    }

    [Fact]
    public void TheSummaryCountsEachGenerationAndAveragesEachPhase()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(0), Start(0, 0), Mark(4, 3), Restart(5),
            Suspend(10), Start(10, 0), Mark(12, 3), Restart(13),
            Suspend(20), Start(20, 1), Mark(40, 3), Restart(41),
        ]);

        var lines = GcPhaseSummary.Lines("r1.nettrace", pauses, 15);

        lines[0].Should().Be("r1.nettrace: 3 GCs in 15.0 s (2 gen0, 1 gen1)");
        lines[1].Should().StartWith("  all: pause mean 9.67 ms, median 5.00, max 21.00;")
            .And.Contain("older generation (cards) 8.67");
        lines[2].Should().StartWith("  gen0: pause mean 4.00 ms, median 4.00, max 5.00;").And.Contain("older generation (cards) 3.00");
        lines[3].Should().StartWith("  gen1: pause mean 21.00 ms");
        GcPhaseSummary.Lines("idle.nettrace", [], 2).Should().ContainSingle().Which.Should().Contain("no GC pause");
    }

    [Theory]
    [InlineData(0, "stacks")]
    [InlineData(3, "older generation (cards)")]
    [InlineData(7, "finalization")]
    [InlineData(4, "handles")]
    [InlineData(5, "other marking")]
    public void EachMarkRootTypeHasItsPhase(int type, string phase) => GcPhases.PhaseOf(type).Should().Be(phase);
}
