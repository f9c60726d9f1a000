using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// A rolling deploy as a member sees it, in headless Chromium against a real cluster (redis, three replicas, nginx).
/// The driver (tests/js/browser/drain.mjs) opens A through nginx on the room's replica and B on another, then sends
/// the room's replica SIGTERM: A must come back live on a survivor by itself, never offline and without a click
/// (DESIGN.md §9), while the drained replica exits. Its own cluster: it stops a replica.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class DrainInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task AMemberOfADrainedReplicaComesBackLiveOnASurvivorByItself()
    {
        var result = await ChromiumDriver.RunAsync("drain.mjs", cluster);

        result.ExitCode.Should().Be(0, result.ToString());
        var report = result.LastJsonLine!.Value;
        report.GetProperty("ok").GetBoolean().Should().BeTrue();
        var drained = report.GetProperty("roomReplica").GetString();
        drained.Should().NotBeNullOrEmpty();
        report.GetProperty("replicaAAfterDrain").GetString().Should().NotBe(drained, "A resumed on a survivor");
        report.GetProperty("statusesSeenByA").EnumerateArray().Select(s => s.GetString()).Should()
            .Contain("reconnecting").And.NotContain("offline", $"the page reconnects by itself\n{result}");
        var victim = cluster.Replicas.Single(r => r.ReplicaId == drained);
        victim.HasExited.Should().BeTrue("the driver's SIGTERM drained the room's replica, which then exited");
        victim.Output.Should().Contain("Drained:", "it exited through the drain, not a crash");
        cluster.Replicas.Count(r => r.HasExited).Should().Be(1);
    }
}
