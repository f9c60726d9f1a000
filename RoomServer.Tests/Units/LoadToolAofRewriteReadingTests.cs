extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// How the load tool reads Redis's AOF rewrites from <c>INFO persistence</c> (<c>AofRewriteReading</c>), counts those
/// that overlapped a step's window, and marks the step in its report and log line.
/// </summary>
public sealed class LoadToolAofRewriteReadingTests
{
    private const string Info =
        "# Persistence\r\nloading:0\r\naof_enabled:1\r\naof_rewrite_in_progress:1\r\naof_rewrite_scheduled:0\r\naof_rewrites:7\r\naof_rewrites_consecutive_failures:0\r\n";

    [Fact]
    public void ReadsTheCompletedAndRunningRewrites()
    {
        AofRewriteReading.Parse(Info).Should().Be(new AofRewriteReading(7, 1));
    }

    [Theory]
    [InlineData("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n", true)]
    [InlineData("# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7001,state=online\r\n", false)]
    [InlineData("# Persistence\r\naof_rewrites:3\r\n", false)]
    public void AReplicaIsKnownByItsOwnRoleLine(string info, bool replica)
    {
        AofRewriteReading.IsReplica(info).Should().Be(replica);
    }

    [Theory]
    [InlineData("# Persistence\r\naof_rewrite_in_progress:0\r\n")] // Redis before 7.0: no aof_rewrites
    [InlineData("# Persistence\r\naof_rewrites:3\r\n")]
    [InlineData("aof_rewrites:x\r\naof_rewrite_in_progress:0\r\n")]
    [InlineData("")]
    public void AReplyWithoutBothFieldsReadsAsUnknown(string info)
    {
        AofRewriteReading.Parse(info).Should().BeNull();
    }

    [Theory]
    [InlineData(7, 0, 7, 0, 0)] // none
    [InlineData(7, 0, 8, 0, 1)] // started and finished in the window
    [InlineData(7, 0, 7, 1, 1)] // started in the window, still running
    [InlineData(7, 1, 8, 0, 1)] // running at the start, finished in the window: counted once
    [InlineData(7, 1, 7, 1, 1)] // running throughout
    [InlineData(7, 1, 8, 1, 2)] // one finished, the next started
    public void CountsTheRewritesThatOverlappedTheWindow(long doneBefore, int runningBefore, long doneAfter, int runningAfter, int overlapping)
    {
        AofRewriteReading.Overlapping(new AofRewriteReading(doneBefore, runningBefore), new AofRewriteReading(doneAfter, runningAfter))
            .Should().Be(overlapping);
    }

    [Fact]
    public void AnUnknownReadingLeavesTheStepUnmarked()
    {
        AofRewriteReading.Overlapping(null, new AofRewriteReading(1, 0)).Should().BeNull();
        AofRewriteReading.Overlapping(new AofRewriteReading(1, 0), null).Should().BeNull();
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData(0, "")]
    [InlineData(1, "; Redis rewrote its AOF in the window")]
    [InlineData(2, "; Redis rewrote its AOF 2 times in the window")]
    public void AStepWithARewriteSaysSo(int? rewrites, string note)
    {
        MarkdownReport.AofRewriteNote(rewrites).Should().Be(note);
    }
}
