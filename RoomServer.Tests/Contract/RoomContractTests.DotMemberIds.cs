using System.Net;
using System.Net.Http.Json;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// "." and ".." would be dot segments as a path segment: the client's Uri and Kestrel both resolve
    /// them, so DELETE /api/rooms/{id}/members/.. would reach DELETE /api/rooms/{id}/ and delete the room
    /// (the server cannot tell: it never sees the segment). Such ids are refused where members come from,
    /// the token API, so no member can have one.
    /// </summary>
    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    public async Task AMemberIdMadeOfDotsIsRefusedByTheTokenApi(string memberId)
    {
        var room = await Server.CreateRoomAsync();
        using var token = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId, displayName = "Dots" });
        token.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = (await token.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be("invalid_argument");
        problem.Detail.Should().Contain("not \".\" or \"..\"");
        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
    }

    [Theory]
    [InlineData("...")]
    [InlineData(".ann")]
    [InlineData("ann.b")]
    public async Task AMemberIdWithDotsAmongOtherCharactersIsStillAMember(string memberId)
    {
        var room = await Server.CreateRoomAsync();
        using var token = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId, displayName = "Dots" });
        token.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
