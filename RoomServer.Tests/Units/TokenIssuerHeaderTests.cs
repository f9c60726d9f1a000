using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The JOSE header of a member token names its room (DESIGN.md §3) in the exact form nginx matches
/// (nginx/roomshare-http.conf; routing itself: Deployment/NginxTokenRoutingTests).
/// </summary>
public sealed class TokenIssuerHeaderTests
{
    private readonly TokenIssuer issuer = new(
        Options.Create(new RoomServerOptions { Jwt = { SigningKey = new string('k', 32) } }), TimeProvider.System);

    [Fact]
    public void AnIssuedTokensHeaderNamesItsRoomWhereNginxLooksForIt()
    {
        var roomId = RoomIds.NewRoomId();
        var header = HeaderOf(roomId, "m1");

        Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(header)).Should().Be($$"""{"alg":"HS256","room":"{{roomId}}","typ":"JWT"}""");
        header.Should().StartWith("eyJhbGciOiJIUzI1NiIsInJvb20iOi", "nginx/roomshare-http.conf matches this prefix");
        File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "nginx", "roomshare-http.conf")).Should().Contain("eyJhbGciOiJIUzI1NiIsInJvb20iOi[IJ]");
        HeaderOf(roomId, "m2").Should().Be(header, "every member of a room carries the same header");
        HeaderOf(RoomIds.NewRoomId(), "m1").Should().NotBe(header);
    }

    private string HeaderOf(string roomId, string memberId) =>
        issuer.Issue(roomId, memberId, memberId.ToUpperInvariant(), RoomClaims.MemberRole, 0).Token.Split('.')[0];
}
