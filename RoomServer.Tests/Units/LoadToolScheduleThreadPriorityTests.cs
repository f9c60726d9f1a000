extern alias loadtool;

using System.Globalization;
using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's open-loop schedule runs its thread at nice −10 where the box allows it, and its report
/// says which it got. Read back from the kernel (<c>/proc/thread-self/stat</c>), so the report cannot claim
/// a priority the thread did not have; a process with CAP_SYS_NICE (root here and in CI) must get it, and
/// nothing the thread starts may inherit it.
/// </summary>
public sealed class LoadToolScheduleThreadPriorityTests
{
    private const int CapSysNice = 23;

    [Fact]
    public async Task TheScheduleThreadRunsAtTheNiceValueTheReportStates()
    {
        var callerNice = NiceOfThisThread();
        callerNice.Should().Be(0, "the tool assumes it runs at nice 0, and so does this test");
        int? scheduleNice = null;
        int? startedThreadNice = null;
        await OpenLoop.RunAsync(1_000, 1, (_, _, _) =>
        {
            scheduleNice = NiceOfThisThread();

            // A thread the schedule starts (as the thread pool does when the schedule queues work) must not inherit its priority.
            var started = new Thread(() => startedThreadNice = NiceOfThisThread());
            started.Start();
            started.Join();
        }, CancellationToken.None);

        scheduleNice.Should().NotBeNull("the schedule dispatched its one item");
        startedThreadNice.Should().Be(0, "only the schedule's own thread is raised, not what it starts");
        var report = ScheduleThreadPriority.Describe();
        if (scheduleNice == ScheduleThreadPriority.Nice)
        {
            report.Should().Contain("at nice -10");
        }
        else
        {
            scheduleNice.Should().Be(0);
            report.Should().Contain("normal priority");
            HasCapability(CapSysNice).Should().BeFalse($"a process that may raise a thread must raise it; the report says: {report}");
        }
    }

    /// <summary>Field 19 of the calling thread's stat line (the fields after the command name's closing parenthesis start at field 3).</summary>
    private static int NiceOfThisThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(fields[19 - 3], CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the process's effective capability set (CapEff in <c>/proc/self/status</c>) holds a capability.</summary>
    private static bool HasCapability(int bit)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var mask = ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return (mask & (1UL << bit)) != 0;
    }
}
