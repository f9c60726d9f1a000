extern alias loadtool;

using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's open-loop schedule runs its thread at nice −10 where the box allows it, and its report
/// says which it got. Read back from the kernel (the thread's own <c>/proc/thread-self/stat</c>), so the
/// report cannot claim a priority the thread did not have; root (as here and in CI) must get it.
/// </summary>
public sealed class LoadToolScheduleThreadPriorityTests
{
    [Fact]
    public async Task TheScheduleThreadRunsAtTheNiceValueTheReportStates()
    {
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
        NiceOfThisThread().Should().Be(0, "the caller's thread is not raised either");
        if (Environment.UserName == "root")
        {
            scheduleNice.Should().Be(ScheduleThreadPriority.Nice);
            ScheduleThreadPriority.Describe().Should().Contain("at nice -10");
        }
        else
        {
            scheduleNice.Should().Be(0);
            ScheduleThreadPriority.Describe().Should().Contain("not permitted");
        }
    }

    /// <summary>Field 19 of the calling thread's stat line (the fields after the command name's closing parenthesis start at field 3).</summary>
    private static int NiceOfThisThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
