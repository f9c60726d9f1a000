extern alias loadtool;

using System.Diagnostics;
using loadtool::RoomShare.LoadTest.Population;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's ack timeline (<c>--latencies</c>): each measured change's intended time and ack latency, on the
/// clock <c>perf sched</c> stamps with; and the machine line's note of a kernel memory monitor (DAMON), which
/// accounts for most of the low-load tail on the development box.
/// </summary>
public sealed class LoadToolAckTimelineTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "roomshare-ack-timeline-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string NoProc => Path.Combine(_directory, "no-proc");

    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void OnlyMeasuredChangesAreListedEachWithItsAckOrNone()
    {
        var ledger = new ChangeLedger(step: 1, changes: 4, membersPerRoom: 2, measuredFrom: 1);
        for (var change = 0; change < 4; change++)
        {
            ledger.MarkSending(change, "room-a", 1, intendedAt: Ms(1000 + change), sendingAt: Ms(1000 + change));
        }

        ledger.OnCompleted(0, error: null, receivedAt: Ms(1002)); // warm-up: not listed
        ledger.OnCompleted(1, error: null, receivedAt: Ms(1004));
        ledger.OnCompleted(2, error: "rate_limited: slow down", receivedAt: Ms(1005)); // failed: no ack

        ledger.MeasuredAcks().Should().Equal(
            (Ms(1001), (long?)Ms(1004)),
            (Ms(1002), (long?)null),
            (Ms(1003), (long?)null));
    }

    [Fact]
    public void TheFileGivesIntendedTimesInNanosecondsAndAcksInMicrosecondsAfterAClockLine()
    {
        using var text = new StringWriter();
        AckTimelineFile.WriteTo(
            text,
            "arm floor, W1 at 250/s, attempt 1",
            [(Ms(10_000), Ms(10_003.5)), (Ms(10_004), null)],
            monotonicNow: Ms(12_000),
            utcNow: new DateTime(2026, 12, 3, 17, 0, 0, DateTimeKind.Utc));

        text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Should().Equal(
            "# RoomShare.LoadTest ack timeline: arm floor, W1 at 250/s, attempt 1",
            "# clock: monotonic_ns=12000000000 utc=2026-12-03T17:00:00.0000000Z",
            "intended_ns,ack_us",
            "10000000000,3500",
            "10004000000,");
    }

    [Fact]
    public void EachStepGetsItsOwnFileNamedByArmScenarioStepRateAndAttempt()
    {
        var ledger = new ChangeLedger(step: 1, changes: 1, membersPerRoom: 1, measuredFrom: 0);
        ledger.MarkSending(0, "room-a", 1, intendedAt: Ms(1), sendingAt: Ms(1));
        ledger.OnCompleted(0, error: null, receivedAt: Ms(3));

        var path = AckTimelineFile.Write(Path.Combine(_directory, "latencies"), "roomshare-2", "W1", 3, 610, 2, ledger);

        path.Should().Be(Path.Combine(_directory, "latencies", "roomshare-2-W1-03-610-2.csv"));
        File.ReadAllLines(path).Should().HaveCount(4).And.EndWith(
            $"{Ms(1) * (1_000_000_000 / Stopwatch.Frequency)},2000");
    }

    [Fact]
    public void TwoStepsAtOneRateKeepBothTimelines()
    {
        // A fixed-rate list may repeat a rate (`--set W1.rates=1192,1192`): the second step's file must not replace the first's.
        var first = new ChangeLedger(step: 1, changes: 1, membersPerRoom: 1, measuredFrom: 0);
        first.MarkSending(0, "room-a", 1, intendedAt: Ms(1), sendingAt: Ms(1));
        first.OnCompleted(0, error: null, receivedAt: Ms(3));
        var second = new ChangeLedger(step: 2, changes: 1, membersPerRoom: 1, measuredFrom: 0);
        second.MarkSending(0, "room-a", 1, intendedAt: Ms(5), sendingAt: Ms(5));
        second.OnCompleted(0, error: null, receivedAt: Ms(12));
        var directory = Path.Combine(_directory, "latencies");

        var firstPath = AckTimelineFile.Write(directory, "roomshare-2", "W1", 1, 1192, 1, first);
        var secondPath = AckTimelineFile.Write(directory, "roomshare-2", "W1", 2, 1192, 1, second);

        secondPath.Should().NotBe(firstPath);
        File.ReadAllLines(secondPath)[0].Should().Be("# RoomShare.LoadTest ack timeline: arm roomshare-2, W1 step 2 at 1192/s, attempt 1");
        File.ReadAllLines(firstPath).Should().EndWith($"{Ms(1) * (1_000_000_000 / Stopwatch.Frequency)},2000");
        File.ReadAllLines(secondPath).Should().EndWith($"{Ms(5) * (1_000_000_000 / Stopwatch.Frequency)},7000");
    }

    [Fact]
    public void ARunningDamonMonitorIsDescribedWithItsSamplingIntervalAndSchemes()
    {
        var context = Path.Combine(_directory, "0", "contexts", "0");
        Write(Path.Combine(_directory, "0", "state"), "on\n");
        Write(Path.Combine(context, "operations"), "paddr\n");
        Write(Path.Combine(context, "monitoring_attrs", "intervals", "sample_us"), "500000\n");
        Write(Path.Combine(context, "schemes", "0", "action"), "pageout\n");
        Write(Path.Combine(_directory, "1", "state"), "off\n"); // a stopped one is not described
        Directory.CreateDirectory(Path.Combine(_directory, "1", "contexts", "0"));

        KernelMemoryMonitor.Describe(_directory, NoProc).Should().Be("DAMON paddr, sampling every 500 ms, pageout");
    }

    [Fact]
    public void AKdamondThreadWhoseSettingsCannotBeReadIsStillNamed()
    {
        // As an ordinary user: DAMON's sysfs files are root's, but /proc/<pid>/comm is anyone's.
        var proc = Path.Combine(_directory, "proc");
        Write(Path.Combine(proc, "1", "comm"), "systemd\n");
        Write(Path.Combine(proc, "79", "comm"), "kdamond.0\n");
        Write(Path.Combine(proc, "self", "comm"), "kdamond-lookalike\n"); // not a pid: not a thread of its own

        KernelMemoryMonitor.Describe(Path.Combine(_directory, "unreadable"), proc).Should().Be("kdamond running (its settings need root to read)");
    }

    [Fact]
    public void NoRunningMonitorOrNoDamonAtAllIsNull()
    {
        KernelMemoryMonitor.Describe(Path.Combine(_directory, "absent"), NoProc).Should().BeNull();

        Write(Path.Combine(_directory, "0", "state"), "off\n");
        Directory.CreateDirectory(Path.Combine(_directory, "0", "contexts", "0"));
        KernelMemoryMonitor.Describe(_directory, NoProc).Should().BeNull();
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
