extern alias loadtool;

using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Population;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// W0's arithmetic: a process's RSS growth shared out over the connections that caused it (<c>RssPerConnection</c>:
/// per reading, per server process, with one process holding every member), and the two halves' connect reports
/// added into the run's (<c>ConnectReport.Then</c>).
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
    public void EachReplicaIsChargedOnlyForItsOwnMembers()
    {
        var round = new ConnectReport(300, 0, [], 5.0, new Dictionary<string, int> { ["r1"] = 100, ["r2"] = 200 });
        var joinedOn = RssPerConnection.JoinedOn(["r1", "r2"], round);
        var before = new Dictionary<string, long?> { ["r1"] = 0, ["r2"] = 0, ["nginx"] = 0 };
        var after = new Dictionary<string, long?> { ["r1"] = 100 * 10 * 1024L, ["r2"] = 200 * 30 * 1024L, ["nginx"] = 1 << 30 };

        joinedOn.Should().BeEquivalentTo(new Dictionary<string, int> { ["r1"] = 100, ["r2"] = 200 });
        RssPerConnection.ByServer(joinedOn, before, after)
            .Should().BeEquivalentTo(new Dictionary<string, double?> { ["r1"] = 10.0, ["r2"] = 30.0 }, "only server processes, each over its own members");
    }

    [Fact]
    public void OneServerProcessHoldsEveryMemberWhateverItsRepliesCallIt()
    {
        // The floor's replies name it "floor"; the tool measures its one process as "r1".
        var round = new ConnectReport(2_500, 0, [], 2.0, new Dictionary<string, int> { ["floor"] = 2_500 });

        RssPerConnection.JoinedOn(["r1"], round).Should().BeEquivalentTo(new Dictionary<string, int> { ["r1"] = 2_500 });
    }

    [Fact]
    public void AReplicaWithNoReadingBetweenTheHalvesHasNoSecondHalfFigure()
    {
        // A single room has no first half: nothing is read between the halves.
        var joinedOn = new Dictionary<string, int> { ["r1"] = 5 };

        RssPerConnection.ByServer(joinedOn, new Dictionary<string, long?>(), new Dictionary<string, long?> { ["r1"] = 1_000_000 })
            .Should().BeEquivalentTo(new Dictionary<string, double?> { ["r1"] = null });
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
