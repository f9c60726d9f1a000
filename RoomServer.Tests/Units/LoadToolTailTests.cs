extern alias loadtool;

using loadtool::RoomShare.LoadTest.Tail;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's <c>tail</c> subcommand: reading perf's timehist text and the ack timeline CSV (and saying
/// which line of which file is wrong), and attributing slow changes to the kdamond runs and GC pauses their waits
/// overlap, against the fast changes, with each class's CPU share inside the slow waits.
/// </summary>
public sealed class LoadToolTailTests : IDisposable
{
    private const long Ms = 1_000_000;
    private const int ServerPid = 10;
    private readonly string _dir = Directory.CreateTempSubdirectory("loadtool-tail-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void TimehistLinesAreReadPastTheHeaderWhateverTheTaskName()
    {
        var path = Write("timehist.txt", """
                       time    cpu  task name                       wait time  sch delay   run time
                                    [tid/pid]                          (msec)     (msec)     (msec)
            --------------- ------  ------------------------------  ---------  ---------  ---------
               85980.704988 [0000]  .NET TP Worker[12529/12513]         0.000      0.008      0.053 
               85980.705014 [0001]  nginx[12552]                        0.000      0.012      0.026 
               85980.813580 [0000]  <idle>                              0.117      0.000      0.328 
               85982.041203 [0001]  kdamond.0[79]                       0.000      0.004      5.171 
               85982.046621 [0000]  :-1[-1/12513]                       0.000      0.000      1.036
               85982.047621 [0001]  .NET Long Running[4194001/41940     0.000      0.000      1.000

            """);

        var sched = SchedTimeline.Read(path);
        var runs = sched.Overlapping(long.MinValue, long.MaxValue).OrderBy(r => r.EndNs).ToList();
        sched.CutShort.Should().Be(1);

        runs.Should().Equal(
            new SchedRun(0, 85_980_704_935_000, 85_980_704_988_000, ".NET TP Worker", 12513),
            new SchedRun(1, 85_980_704_988_000, 85_980_705_014_000, "nginx", 12552),
            new SchedRun(0, 85_980_813_252_000, 85_980_813_580_000, "<idle>", null),
            new SchedRun(1, 85_982_036_032_000, 85_982_041_203_000, "kdamond.0", 79),
            new SchedRun(0, 85_982_045_585_000, 85_982_046_621_000, ":-1", 12513), // a thread gone before perf named it
            new SchedRun(1, 85_982_046_621_000, 85_982_047_621_000, ".NET Long Running", SchedTimeline.UnknownPid)); // cut short by perf
    }

    [Fact]
    public void AMalformedTimehistLineIsAnErrorNamingFileAndLine()
    {
        var path = Write("timehist.txt", """
                       time    cpu  task name                       wait time  sch delay   run time
               85980.704988 [0000]  nginx[12552]                        0.000      0.012      0.026
               85980.705014 [0001]  nginx[12552]                        0.000      0.012
            """);

        var read = () => SchedTimeline.Read(path);

        read.Should().Throw<TailInputException>().Which.Message.Should().StartWith($"{path}:3: ");
    }

    [Fact]
    public void TheAckTimelineKeepsTheClockAndSkipsCommentsAndUnacknowledgedChanges()
    {
        var path = Write("acks.csv", """
            # RoomShare.LoadTest ack timeline: arm roomshare-2, W1 at 250/s, attempt 1
            # clock: monotonic_ns=85999796210883 utc=2026-12-03T16:51:58.9597903Z
            intended_ns,ack_us
            85979792628969,2604
            85979796628969,
            85979800628969,9100

            """);

        var timeline = AckTimeline.Read(path);

        timeline.Clock.Should().Be(new ClockAnchor(85_999_796_210_883, new DateTime(2026, 12, 3, 16, 51, 58, DateTimeKind.Utc).AddTicks(9_597_903)));
        timeline.Clock!.Utc.Kind.Should().Be(DateTimeKind.Utc);
        timeline.Changes.Should().Equal(new AckedChange(85_979_792_628_969, 2604), new AckedChange(85_979_800_628_969, 9100));
    }

    [Theory]
    [InlineData("intended_ns,ack_us\n1,2\n1,2.5\n", 3)]
    [InlineData("intended_ns,ack_us\nx,2\n", 2)]
    [InlineData("intended_ns,ack_us\n1,2,room\n", 2)]
    [InlineData("# clock: monotonic_ns=12 utc=yesterday\nintended_ns,ack_us\n", 1)]
    public void AMalformedAckLineIsAnErrorNamingFileAndLine(string text, int line)
    {
        var path = Write("acks.csv", text);

        var read = () => AckTimeline.Read(path);

        read.Should().Throw<TailInputException>().Which.Message.Should().StartWith($"{path}:{line}: ");
    }

    // Two CPUs, traced over [0, 100) ms. CPU 0 idles but for a 5 ms kdamond run at [20, 25); CPU 1 runs the
    // server but for a 0.3 ms kdamond slice (under the 0.5 ms that counts) at [55, 55.3).
    private static SchedTimeline Trace() => new(
    [
        new SchedRun(0, 0, 20 * Ms, "<idle>", null),
        new SchedRun(0, 20 * Ms, 25 * Ms, "kdamond.0", 79),
        new SchedRun(0, 25 * Ms, 100 * Ms, "<idle>", null),
        new SchedRun(1, 0, 55 * Ms, ".NET TP Worker", ServerPid),
        new SchedRun(1, 55 * Ms, 55 * Ms + 300_000, "kdamond.0", 79),
        new SchedRun(1, 55 * Ms + 300_000, 100 * Ms, ".NET TP Worker", ServerPid),
    ]);

    private static readonly TaskClassifier Classifier = new(new HashSet<int> { ServerPid }, GeneratorPid: 20);

    private static AckedChange Change(long intendedMs, long ackMs) => new(intendedMs * Ms, ackMs * 1000);

    private static readonly AckedChange SlowAcrossKdamond = Change(18, 10); // waits [18, 28)
    private static readonly AckedChange SlowBesideKdamond = Change(50, 12); // waits [50, 62): only the 0.3 ms slice
    private static readonly AckedChange FastAcrossKdamond = Change(21, 2);
    private static readonly AckedChange FastElsewhere = Change(70, 2);

    private static TailReport Attribute(IReadOnlyList<AckedChange> changes, params TimeInterval[] gcPauses) =>
        TailAttribution.Attribute(changes, Trace(), Classifier, [new GcTrace("gc.nettrace", gcPauses, new TimeInterval(0, 100 * Ms))], slowMs: 8);

    [Fact]
    public void ASlowChangeCountsTowardsKdamondOnlyWhenItsWaitOverlapsARunOfHalfAMillisecondOrMore()
    {
        var report = Attribute([SlowAcrossKdamond, SlowBesideKdamond, FastAcrossKdamond, FastElsewhere]);

        report.Changes.Should().Be(4);
        report.P99AckMs.Should().Be(12);
        report.Slow.Should().Be(new OverlapCounts(Changes: 2, Kdamond: 1, Gc: 0, Either: 1, Neither: 1));
        report.Fast.Should().Be(new OverlapCounts(Changes: 2, Kdamond: 1, Gc: 0, Either: 1, Neither: 1), "the fast changes are the baseline, counted alike");
    }

    [Fact]
    public void ChangesWhoseWaitIsNotWhollyInsideTheTraceAreLeftOut()
    {
        var report = Attribute([SlowAcrossKdamond, Change(95, 10), Change(-1, 9)]);

        (report.Changes, report.OutsideSched, report.OutsideGcTraces).Should().Be((1, 2, 0));
        report.Slow.Changes.Should().Be(1);
    }

    [Fact]
    public void ChangesOutsideAGcTraceAreLeftOutNotCountedAsMissingEveryPause()
    {
        // The sched trace covers [0, 100) ms; one process's GC trace only [0, 40).
        GcTrace[] traces = [new("r1.nettrace", [], new TimeInterval(0, 100 * Ms)), new("r2.nettrace", [], new TimeInterval(0, 40 * Ms))];

        var report = TailAttribution.Attribute([SlowAcrossKdamond, SlowBesideKdamond, FastElsewhere], Trace(), Classifier, traces, slowMs: 8);

        (report.Changes, report.OutsideSched, report.OutsideGcTraces).Should().Be((1, 0, 2));
        report.Slow.Should().Be(new OverlapCounts(Changes: 1, Kdamond: 1, Gc: 0, Either: 1, Neither: 0));
    }

    [Fact]
    public void TheTraceCoversOnlyTheSpanEveryCpuIsTracedIn()
    {
        // CPU 0's first sched-out ends at 10 ms, CPU 1's at 30; CPU 0's last at 90, CPU 1's at 80.
        var sched = new SchedTimeline(
        [
            new SchedRun(0, 5 * Ms, 10 * Ms, "<idle>", null),
            new SchedRun(0, 10 * Ms, 90 * Ms, "<idle>", null),
            new SchedRun(1, 20 * Ms, 30 * Ms, "<idle>", null),
            new SchedRun(1, 30 * Ms, 80 * Ms, "<idle>", null),
        ]);

        (sched.StartNs, sched.EndNs).Should().Be((20 * Ms, 80 * Ms));
        sched.Covers(20 * Ms, 80 * Ms).Should().BeTrue();
        sched.Covers(15 * Ms, 40 * Ms).Should().BeFalse("CPU 1 was not traced yet at 15 ms");
        sched.Covers(40 * Ms, 85 * Ms).Should().BeFalse("CPU 1 was no longer traced at 85 ms");
    }

    [Fact]
    public void GcPausesRunFromTheFirstSuspendToTheNextRestartAndHalfPausesAtTheEdgesAreDropped()
    {
        GcEvent Suspend(long ms) => new(GcEventKind.SuspendStart, ms * Ms);
        GcEvent Restart(long ms) => new(GcEventKind.RestartStop, ms * Ms);

        GcPauses.Pair(
        [
            Restart(1), // the trace began mid-pause: no pause
            Suspend(10), Restart(12),
            Suspend(20), Suspend(21), Restart(25), // a second suspend keeps the first
            Suspend(40), // the trace ended mid-pause: no pause
        ]).Should().Equal(new TimeInterval(10 * Ms, 12 * Ms), new TimeInterval(20 * Ms, 25 * Ms));
    }

    [Fact]
    public void TheCpuSharesOfTheSlowWaitsLeaveOutTheirFirstAndLastMillisecond()
    {
        var report = Attribute([SlowAcrossKdamond, FastAcrossKdamond]);

        // [19, 27) on two CPUs, 16 ms: kdamond 5, server 8, idle 3. The fast change does not count.
        report.SlowWaitShares[TaskClass.Kdamond].Should().BeApproximately(5 / 16.0, 1e-9);
        report.SlowWaitShares[TaskClass.Server].Should().BeApproximately(8 / 16.0, 1e-9);
        report.SlowWaitShares[TaskClass.Idle].Should().BeApproximately(3 / 16.0, 1e-9);
        report.SlowWaitShares.Values.Sum().Should().BeApproximately(1, 1e-9);

        // The whole trace, 200 ms of CPU: idle 95, kdamond 5.3, server 99.7.
        report.TraceShares[TaskClass.Idle].Should().BeApproximately(95 / 200.0, 1e-9);
        report.TraceShares[TaskClass.Kdamond].Should().BeApproximately(5.3 / 200.0, 1e-9);
        report.TraceShares[TaskClass.Server].Should().BeApproximately(99.7 / 200.0, 1e-9);
    }

    [Fact]
    public void AGcPauseInUtcIsPlacedOnTheMonotonicClockByTheClockLine()
    {
        var utc = new DateTime(2026, 12, 3, 16, 0, 0, DateTimeKind.Utc);
        var clock = new ClockAnchor(MonotonicNs: 1000 * Ms, utc); // the trace's 1000 ms is 16:00:00.000 UTC
        var pause = new TimeInterval(clock.ToMonotonicNs(utc.AddMilliseconds(-945)), clock.ToMonotonicNs(utc.AddMilliseconds(-940)));

        pause.Should().Be(new TimeInterval(55 * Ms, 60 * Ms));
        var report = Attribute([SlowAcrossKdamond, SlowBesideKdamond, FastElsewhere], pause);

        report.Slow.Should().Be(new OverlapCounts(Changes: 2, Kdamond: 1, Gc: 1, Either: 2, Neither: 0));
        report.Fast.Should().Be(new OverlapCounts(Changes: 1, Kdamond: 0, Gc: 0, Either: 0, Neither: 1));
    }

    [Fact]
    public void RunsAreClassedByPidForTheDotNetProcessesAndByNameForTheRest()
    {
        SchedRun Run(string name, int? pid) => new(0, 0, 1, name, pid);

        new[]
        {
            Classifier.Classify(Run("<idle>", null)),
            Classifier.Classify(Run(".NET Sockets", ServerPid)),
            Classifier.Classify(Run("open-loop sched", 20)),
            Classifier.Classify(Run("nginx", 30)),
            Classifier.Classify(Run("redis-server", 31)),
            Classifier.Classify(Run("kdamond.0", 79)),
            Classifier.Classify(Run("kworker/0:1", 5)),
        }.Should().Equal(TaskClass.Idle, TaskClass.Server, TaskClass.Generator, TaskClass.Nginx, TaskClass.Redis, TaskClass.Kdamond, TaskClass.Other);
    }
}
