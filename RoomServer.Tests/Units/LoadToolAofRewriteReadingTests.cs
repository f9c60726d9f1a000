extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool reads Redis's AOF rewrites from <c>INFO</c> (<c>AofRewriteReading</c>), counts those that
/// overlapped a step (<c>aof_rewrites</c> counts a rewrite as its fork is made, so a running one is already counted),
/// sums them over the nodes (<c>AofRewriteSnapshot</c>), and marks the step in its report and log line.
/// </summary>
public sealed class LoadToolAofRewriteReadingTests
{
    private const string Info =
        "# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\n\r\n# Persistence\r\nloading:0\r\naof_enabled:1\r\naof_rewrite_in_progress:1\r\naof_rewrite_scheduled:0\r\naof_rewrites:7\r\n";

    [Fact]
    public void ReadsTheNodesRunAndItsStartedAndRunningRewrites()
    {
        AofRewriteReading.Parse(Info).Should().Be(new AofRewriteReading("abc123", 7, 1));
    }

    [Theory]
    [InlineData("run_id:a\r\naof_rewrite_in_progress:0\r\n")] // Redis before 7.0: no aof_rewrites
    [InlineData("run_id:a\r\naof_rewrites:3\r\n")]
    [InlineData("aof_rewrites:3\r\naof_rewrite_in_progress:0\r\n")]
    [InlineData("run_id:a\r\naof_rewrites:x\r\naof_rewrite_in_progress:0\r\n")]
    [InlineData("")]
    public void AReplyWithoutEveryFieldReadsAsUnknown(string info)
    {
        AofRewriteReading.Parse(info).Should().BeNull();
    }

    [Theory]
    [InlineData(7, 0, 7, 0, 0)] // none
    [InlineData(7, 0, 8, 0, 1)] // started and finished
    [InlineData(7, 0, 8, 1, 1)] // started, still running
    [InlineData(8, 1, 8, 0, 1)] // running at the start, finished since: counted once
    [InlineData(8, 1, 8, 1, 1)] // running throughout
    [InlineData(8, 1, 9, 1, 2)] // the running one finished, the next started
    [InlineData(7, 0, 9, 0, 2)] // two, one after the other
    public void CountsTheRewritesThatOverlapped(long startedBefore, int runningBefore, long startedAfter, int runningAfter, int overlapping)
    {
        AofRewriteReading.Overlapping(new AofRewriteReading("r", startedBefore, runningBefore), new AofRewriteReading("r", startedAfter, runningAfter))
            .Should().Be(overlapping);
    }

    [Fact]
    public void ANodeThatRestartedInBetweenIsUnknown()
    {
        AofRewriteReading.Overlapping(new AofRewriteReading("before", 5, 0), new AofRewriteReading("after", 0, 0)).Should().BeNull();
        AofRewriteReading.Overlapping(new AofRewriteReading("same", 5, 0), new AofRewriteReading("same", 4, 0)).Should().BeNull();
    }

    [Fact]
    public void ASnapshotSumsItsNodes()
    {
        var before = Snapshot(("a:1", new AofRewriteReading("ra", 1, 0)), ("b:2", new AofRewriteReading("rb", 3, 1)));
        var after = Snapshot(("a:1", new AofRewriteReading("ra", 2, 0)), ("b:2", new AofRewriteReading("rb", 3, 0)));

        AofRewriteSnapshot.Overlapping(before, after).Should().Be(2);
    }

    [Fact]
    public void SnapshotsOfDifferentNodesOrAnUnknownOneLeaveTheStepUnmarked()
    {
        var one = Snapshot(("a:1", new AofRewriteReading("ra", 1, 0)));
        var other = Snapshot(("b:2", new AofRewriteReading("rb", 1, 0)));
        var both = Snapshot(("a:1", new AofRewriteReading("ra", 1, 0)), ("b:2", new AofRewriteReading("rb", 1, 0)));

        AofRewriteSnapshot.Overlapping(one, other).Should().BeNull("a node left and another joined");
        AofRewriteSnapshot.Overlapping(one, both).Should().BeNull("a node joined");
        AofRewriteSnapshot.Overlapping(both, one).Should().BeNull("a node left");
        AofRewriteSnapshot.Overlapping(null, one).Should().BeNull();
        AofRewriteSnapshot.Overlapping(one, null).Should().BeNull();
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData(0, "")]
    [InlineData(1, "; Redis rewrote its AOF during the step")]
    [InlineData(2, "; Redis rewrote its AOF 2 times during the step")]
    public void AStepWithARewriteSaysSo(int? rewrites, string note)
    {
        MarkdownReport.AofRewriteNote(rewrites).Should().Be(note);
    }

    private static AofRewriteSnapshot Snapshot(params (string Endpoint, AofRewriteReading Reading)[] nodes) =>
        new(nodes.ToDictionary(n => n.Endpoint, n => n.Reading));
}
