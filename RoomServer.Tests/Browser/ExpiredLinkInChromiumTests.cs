using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// The web client in headless Chromium against a real cluster: a link that expired half a minute ago by the server's
/// clock, opened on a phone whose clock runs three minutes behind. The page takes the link for live and connects; the
/// hub refuses it, and the page must say the link expired (judged by the server's clock, from its answers' Date), not
/// that the member was removed. The driver is tests/js/browser/expired-link.mjs.
/// </summary>
[Trait("Suite", "Browser")]
public sealed class ExpiredLinkInChromiumTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task ALinkExpiredByTheServersClockReadsAsExpiredOnAPhoneWhoseClockIsBehind()
    {
        var room = await cluster.CreateRoomAsync();
        // Minted as the API mints it, with the cluster's key, one minute before it expired 30 s ago.
        var options = Options.Create(new RoomServerOptions { Jwt = new JwtOptions { SigningKey = cluster.SigningKey, TokenLifetimeMinutes = 1 } });
        var issue = (DateTimeOffset at) => new TokenIssuer(options, new FixedClock(at)).Issue(room.Id, "late", "Late", RoomRoles.Member, removalGeneration: 0);
        var (token, expiresAt) = issue(DateTimeOffset.UtcNow - TimeSpan.FromSeconds(90));
        expiresAt.Should().BeBefore(DateTimeOffset.UtcNow, "the server refuses the link");

        // The same minting, issued now, is admitted: the expired link is refused for its exp, nothing else.
        await using (await HubTestClient.ConnectAsync(cluster.BaseUrl, issue(DateTimeOffset.UtcNow).Token))
        {
        }

        var link = $"{cluster.BaseUrl.ToString().TrimEnd('/')}/#room={Uri.EscapeDataString(room.Id)}&token={token}";
        var result = await ChromiumDriver.RunAsync("expired-link.mjs", cluster, new Dictionary<string, string>
        {
            ["EXPIRED_LINK"] = link,
            ["EXPIRES_AT_MS"] = expiresAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        result.ExitCode.Should().Be(0, result.ToString());
        result.LastJsonLine!.Value.GetProperty("ok").GetBoolean().Should().BeTrue(result.ToString());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
