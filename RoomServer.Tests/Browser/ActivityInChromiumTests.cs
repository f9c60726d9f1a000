using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The web client's activity view in headless Chromium against a real cluster (redis, three
/// replicas, nginx): each page loads the room's earlier activity from the audit trail with its
/// member token (newest first, "Show earlier" for more), and one member's change shows on top of
/// the other's activity live. The driver is tests/js/browser/activity.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class ActivityInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task AMembersChangeShowsLiveInTheOthersActivityAndEarlierActivityComesFromTheTrail()
    {
        var result = await ChromiumDriver.RunAsync("activity.mjs", cluster.BaseUrl, cluster.ApiKey);

        result.ExitCode.Should().Be(0, result.ToString());
        var report = result.LastJsonLine!.Value;
        report.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
        report.GetProperty("bRowsOnJoin").GetInt32().Should().Be(50, "the page loads the latest 50 events first");
        report.GetProperty("bRowsAfterEarlier").GetInt32().Should().Be(report.GetProperty("choiceVersion").GetInt32(), "every event once");
    }
}
