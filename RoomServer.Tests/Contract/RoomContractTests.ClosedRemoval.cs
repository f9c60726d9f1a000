using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// A removal takes the member's choices out of the order; once the order was handed off (locked:
    /// order.submitted, closed: order.closed) it would change what the webhooks got, with no new record.
    /// </summary>
    [Theory]
    [InlineData("locked", RoomErrorCodes.RoomLocked, "members cannot be removed")]
    [InlineData("closed", RoomErrorCodes.RoomClosed, "read only")]
    public async Task RemovingAMemberFromALockedOrClosedRoomIsRefusedAndChangesNothing(string state, string code, string saying)
    {
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 2);
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state })).StatusCode.Should().Be(HttpStatusCode.OK);
        var before = await Server.SnapshotAsync(room);

        using var removal = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/ann");

        removal.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var problem = (await removal.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(code);
        problem.Detail.Should().Contain(saying, "the sentence covers what was refused: a removal, not only a choice");
        var after = await Server.SnapshotAsync(room);
        after.Version.Should().Be(before.Version);
        after.TotalMinor.Should().Be(before.TotalMinor, "the handed-off order is what the webhooks got");
        after.Members.Should().Contain(m => m.MemberId == "ann");
    }
}
