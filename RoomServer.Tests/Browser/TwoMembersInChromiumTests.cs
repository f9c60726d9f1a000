using System.Globalization;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The web client in headless Chromium (Debian's, driven by playwright-core), against a real
/// cluster — redis, three replicas, nginx. The driver (tests/js/browser/two-members.mjs) plays two
/// members on two phones on different replicas, a reload, the owner locking the room, and the kill
/// of member A's replica; it saves mobile screenshots under artifacts/screenshots. Its own cluster:
/// it kills a replica.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class TwoMembersInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task TwoMembersOnDifferentReplicasSeeEachOtherLiveThroughReloadLockAndAReplicaKill()
    {
        var chromium = RequiredTool.Resolve("chromium");
        var screenshots = Path.Combine(RepoPaths.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);

        var result = await NodeScript.RunAsync("browser/two-members.mjs", new Dictionary<string, string>
        {
            ["BASE_URL"] = cluster.BaseUrl.ToString().TrimEnd('/'),
            ["API_KEY"] = cluster.ApiKey,
            ["REPLICA_PIDS"] = string.Join(",", cluster.Replicas.Select(r => $"{r.ReplicaId}:{r.Pid.ToString(CultureInfo.InvariantCulture)}")),
            ["SCREENSHOT_DIR"] = screenshots,
            ["CHROMIUM"] = chromium,
        }, TimeSpan.FromSeconds(120));

        result.ExitCode.Should().Be(0, result.ToString());
        var report = result.LastJsonLine!.Value;
        report.GetProperty("ok").GetBoolean().Should().BeTrue();
        report.GetProperty("replicaA").GetString().Should().NotBe(report.GetProperty("replicaB").GetString(), $"A and B were on different replicas\n{result}");
        report.GetProperty("propagationMs").GetDouble().Should().BeLessThan(1000, "B sees A's choice and the totals within 1 s");
        report.GetProperty("replicaAAfterKill").GetString().Should().NotBe(report.GetProperty("replicaA").GetString(), "A resumed on a survivor");
        cluster.Replicas.Count(r => r.HasExited).Should().Be(1, "the driver killed exactly A's replica");
        Directory.EnumerateFiles(screenshots, "*.png").Should().NotBeEmpty();
    }
}
