using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The web client in headless Chromium against a real cluster (redis, three replicas, nginx): the
/// owner removes a member, whose page says why and stops without reconnecting (a reload is refused
/// too), the others see the member and their choices leave; a new link pasted into the removed
/// member's tab re-admits them; an operator announcement reaches every page; a member removed while
/// their page hears nothing is told they were removed (not that their link expired) when the
/// reconnect is refused. The driver is tests/js/browser/remove-member.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class RemoveMemberInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task TheOwnerRemovesAMemberWhosePageStopsAndEveryPageShowsAnAnnouncement()
    {
        var result = await ChromiumDriver.RunAsync("remove-member.mjs", cluster.BaseUrl, cluster.ApiKey);

        result.ExitCode.Should().Be(0, result.ToString());
        result.LastJsonLine!.Value.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
    }
}
