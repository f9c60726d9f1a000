using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The web client in headless Chromium (Debian's, driven by playwright-core), against a real
/// cluster — redis, three replicas, nginx. The driver (tests/js/browser/two-members.mjs) plays two
/// members and the owner on three phones (three cookie jars): A and the owner through nginx, which
/// sends them to the room's replica (by the room their tokens name; the page's room hint names it too),
/// B straight on another replica, so B sees A's changes through Redis; a reload, the owner locking the room, and the kill of the room's replica,
/// after which A and the owner move together to a survivor. It saves mobile screenshots under
/// artifacts/screenshots. Its own cluster: it kills a replica.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class TwoMembersInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task TwoMembersOnTwoReplicasSeeEachOtherLiveThroughReloadLockAndTheKillOfTheRoomsReplica()
    {
        var result = await ChromiumDriver.RunAsync("two-members.mjs", cluster);

        result.ExitCode.Should().Be(0, $"{result}\nthe cluster's replicas:{cluster.Logs()}");
        var report = result.LastJsonLine!.Value;
        report.GetProperty("ok").GetBoolean().Should().BeTrue();
        var roomReplica = report.GetProperty("roomReplica").GetString();
        roomReplica.Should().NotBeNullOrEmpty();
        report.GetProperty("replicaO").GetString().Should().Be(roomReplica, $"nginx routes the room's members to one replica\n{result}");
        var replicaB = report.GetProperty("replicaB").GetString();
        replicaB.Should().NotBe(roomReplica, "B was opened on another replica, so A's changes reach it through Redis");
        report.GetProperty("propagationMs").GetDouble().Should().BeLessThan(3000, "B sees A's choice and the totals live (the driver's limit; not a speed figure)");
        var survivor = report.GetProperty("replicaAAfterKill").GetString();
        survivor.Should().NotBe(roomReplica, "A resumed on a survivor");
        report.GetProperty("replicaOAfterKill").GetString().Should().Be(survivor, "the room's members through nginx moved together");
        report.GetProperty("replicaBAfterKill").GetString().Should().Be(replicaB, "B's replica lived");
        cluster.Replicas.Count(r => r.HasExited).Should().Be(1, "the driver killed exactly the room's replica");
        cluster.Replicas.Single(r => r.HasExited).ReplicaId.Should().Be(roomReplica);
        Directory.EnumerateFiles(ChromiumDriver.ScreenshotDir, "*.png").Should().NotBeEmpty();
    }
}
