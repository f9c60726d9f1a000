extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Population;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// W0's arithmetic: a process's RSS growth shared out over the connections that caused it
/// (<c>RssPerConnection.Kb</c>), and the two halves' connect reports added into the run's (<c>ConnectReport.Then</c>).
/// </summary>
public sealed class LoadToolIdleMemoryTests
{
    [Fact]
    public void GrowthIsSharedOutOverTheConnectionsInKilobytes()
    {
        RssPerConnection.Kb(100 * 1024 * 1024L, (100 * 1024 * 1024L) + (2_500 * 40 * 1024L), 2_500).Should().Be(40.0);
        RssPerConnection.Kb(0, 3 * 1024, 2).Should().Be(1.5);
        RssPerConnection.Kb(0, 1_000, 3).Should().Be(0.3, "rounded to 0.1 KB (1 000 B ÷ 3 = 0.326 KB)");
    }

    [Fact]
    public void AShrinkingProcessGivesANegativeFigureNotAnError()
    {
        // A compacting GC between the readings can return more than the connections added: the report shows it as it is.
        RssPerConnection.Kb(10 * 1024L, 8 * 1024L, 2).Should().Be(-1.0);
    }

    [Fact]
    public void NoReadingOrNoConnectionGivesNoFigure()
    {
        RssPerConnection.Kb(null, 10_000, 5).Should().BeNull("the process's RSS before could not be read");
        RssPerConnection.Kb(10_000, null, 5).Should().BeNull("the process's RSS after could not be read");
        RssPerConnection.Kb(10_000, 20_000, 0).Should().BeNull("no member joined on the process: nothing to share the growth over");
    }

    [Fact]
    public void TwoHalvesAddUpToOneRunPerReplica()
    {
        var first = new ConnectReport(250, 1, ["a"], 7.5, new Dictionary<string, int> { ["r1"] = 120, ["r2"] = 130 });
        var second = new ConnectReport(249, 2, ["b", "c", "d"], 8.0, new Dictionary<string, int> { ["r2"] = 100, ["r3"] = 149 });

        var both = first.Then(second);

        both.Joined.Should().Be(499);
        both.Failed.Should().Be(3);
        both.Seconds.Should().Be(15.5);
        both.FailureSamples.Should().Equal(["a", "b", "c"], "a few messages, the first half's first");
        both.PerReplica.Should().BeEquivalentTo(new Dictionary<string, int> { ["r1"] = 120, ["r2"] = 230, ["r3"] = 149 });
    }
}
