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

    private static GcPhaseEvent Mark(double ms, int type, int heap = 0, long bytes = 0) => new(GcPhaseEventKind.MarkEnd, ms, type, heap, bytes);

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
    public void PausesTheTraceCutAreLeftOutAndAPauseWithNoCollectionIsKeptApart()
    {
        var pauses = GcPhases.Split(
        [
            Mark(1, 3), Restart(2), // the trace began mid-pause
            Suspend(10), Restart(11), // suspended, but no collection started: a background GC's final pause, say
            Suspend(20), Suspend(20.5), Start(21, 1), Mark(25, 3), Restart(26), // a second suspend keeps the first
            Suspend(30), Start(30.2, 0), Mark(31, 0), // the trace ended mid-pause
        ]);

        pauses.Should().HaveCount(2);
        pauses[0].Generation.Should().BeNull();
        pauses[0].PauseMs.Should().Be(1);
        pauses[1].Generation.Should().Be(1);
        pauses[1].PauseMs.Should().Be(6);
        pauses[1].PhaseMs[GcPhases.Suspension].Should().Be(1);
    }

    [Fact]
    public void ASecondCollectionInOnePauseEndsTheFirstsStretchAndBeginsItsOwn()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(0), Start(1, 1), Mark(3, 3), // a gen1 collection...
            Start(5, 2), Mark(6, 0), // ...then a background GC starts in the same pause
            Restart(8),
        ]);

        pauses.Select(p => p.Generation).Should().Equal(1, 2);
        pauses[0].PauseMs.Should().Be(5);
        pauses[0].PhaseMs[GcPhases.AfterMarking].Should().Be(2, "the gen1's plan and compact, up to the next GCStart");
        pauses[1].PauseMs.Should().Be(3);
        pauses[1].PhaseMs[GcPhases.Suspension].Should().Be(0, "the threads were already stopped");
        pauses[1].PhaseMs["stacks"].Should().Be(1);
        pauses.Sum(p => p.PauseMs).Should().Be(8, "the stretches make up the pause");
    }

    [Fact]
    public void ServerGcHeapsMarkSideBySideThePhasesAreHeapZerosTheBytesEveryHeaps()
    {
        var pause = GcPhases.Split(
        [
            Suspend(0), Start(1, 0),
            Mark(2, 0, heap: 1, bytes: 10), Mark(2.5, 3, heap: 1, bytes: 1000), // heap 1 is through its cards early
            Mark(3, 0, heap: 0, bytes: 20), Mark(9, 3, heap: 0, bytes: 3000),
            Restart(10),
        ]).Should().ContainSingle().Subject;

        pause.PhaseMs["stacks"].Should().Be(2, "heap 1's events do not cut heap 0's phases");
        pause.PhaseMs[GcPhases.Cards].Should().Be(6);
        pause.PhaseMs[GcPhases.AfterMarking].Should().Be(1);
        pause.MarkedBytes[GcPhases.Cards].Should().Be(4000);
        pause.MarkedBytes["stacks"].Should().Be(30);
    }

    [Fact]
    public void TheSummaryCountsEachGenerationAndAveragesEachPhase()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(0), Start(0, 0), Mark(4, 3, bytes: 2048), Restart(5),
            Suspend(10), Start(10, 0), Mark(12, 3, bytes: 4096), Restart(13),
            Suspend(20), Start(20, 1), Mark(40, 3, bytes: 10240), Restart(41),
            Suspend(50), Restart(52.5),
        ]);

        var lines = GcPhaseSummary.Lines("r1.nettrace", pauses, 15);

        lines[0].Should().Be("r1.nettrace: 3 GCs in 15.0 s (2 gen0, 1 gen1)");
        lines[1].Should().StartWith("  all: pause mean 9.67 ms, median 5.00, max 21.00;")
            .And.Contain("older generation (cards) 8.67");
        lines[1].Should().EndWith("marked through the cards: 5 KB a GC");
        lines[2].Should().StartWith("  gen0: pause mean 4.00 ms, median 4.00, max 5.00;").And.Contain("older generation (cards) 3.00")
            .And.EndWith("marked through the cards: 3 KB a GC");
        lines[3].Should().StartWith("  gen1: pause mean 21.00 ms");
        lines[4].Should().StartWith("  1 pause in which no collection started").And.EndWith("mean 2.50 ms, max 2.50");
        GcPhaseSummary.Lines("idle.nettrace", [], 2).Should().ContainSingle().Which.Should().Contain("no GC pause");
    }

    [Fact]
    public void ATraceWithOnlyPausesOfNoCollectionAndLostEventsSaysSo()
    {
        var lines = GcPhaseSummary.Lines("bgc.nettrace", GcPhases.Split([Suspend(0), Restart(1), Suspend(5), Restart(8)]), 10, eventsLost: 3);

        lines.Should().Equal(
            "bgc.nettrace: 0 GCs in 10.0 s; 3 trace events lost, so some pauses may be left out",
            "  2 pauses in which no collection started (a background GC's later pauses, or threads stopped for something else): mean 2.00 ms, max 3.00");
    }

    [Fact]
    public void APauseWhoseRestartTheTraceLostIsLeftOutNotStretchedToTheNext()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(0), Start(1, 0), Mark(2, 3), // its restart was lost
            Suspend(1000), Start(1001, 0), Mark(1003, 3), Restart(1004),
        ]);

        var pause = pauses.Should().ContainSingle().Subject;
        pause.PauseMs.Should().Be(4);
        pause.PhaseMs[GcPhases.Suspension].Should().Be(1);
    }

    [Fact]
    public void AMarkEventTimedBeforeTheOneBeforeItCountsNothingRatherThanLessThanNothing()
    {
        var pause = GcPhases.Split([Suspend(0), Start(1, 0), Mark(3, 0), Mark(2.5, 3), Restart(4)]).Should().ContainSingle().Subject;

        pause.PhaseMs[GcPhases.Cards].Should().Be(0);
        pause.PhaseMs[GcPhases.AfterMarking].Should().Be(1);
        pause.PhaseMs.Values.Should().OnlyContain(ms => ms >= 0);
    }

    [Fact]
    public void AWindowKeepsThePausesThatBeganInIt()
    {
        var pauses = GcPhases.Split(
        [
            Suspend(500), Start(501, 0), Restart(502),
            Suspend(1000), Start(1001, 0), Restart(1003), // begins at the window's start: in
            Suspend(1999), Start(2000, 1), Restart(2010), // begins inside, ends after: in
            Suspend(2500), Start(2501, 0), Restart(2502), // begins at its end: out
        ]);

        pauses.Select(p => p.StartMs).Should().Equal(500, 1000, 1999, 2500);
        GcPhases.Within(pauses, 1000, 2500).Select(p => p.StartMs).Should().Equal(1000, 1999);
    }

    [Fact]
    public void AFileThatIsNoTraceIsSaidToBeUnreadable()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a nettrace");
            var read = () => GcPhaseTrace.Read(path);
            read.Should().Throw<TailInputException>().WithMessage($"{path}: not a readable .nettrace file*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--from", "-1")]
    [InlineData("--to", "NaN")]
    [InlineData("--from", "5", "--to", "5")]
    [InlineData("--from", "6", "--to", "5")]
    public void AWindowThatIsNoneIsRefusedBeforeAnyTraceIsRead(params string[] window)
    {
        var path = Path.GetTempFileName();
        try
        {
            var parse = GcCommand.Create().Parse([path, .. window]);
            parse.Errors.Should().ContainSingle().Which.Message.Should().Match("--*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(0, "stacks")]
    [InlineData(3, "older generation (cards)")]
    [InlineData(7, "finalization")]
    [InlineData(4, "handles")]
    [InlineData(5, "other marking")]
    [InlineData(6, "handles")]
    [InlineData(9, "other marking")]
    public void EachMarkRootTypeHasItsPhase(int type, string phase) => GcPhases.PhaseOf(type).Should().Be(phase);
}
