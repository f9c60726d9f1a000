using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

public abstract partial class LimitTests
{
    [Fact]
    public async Task ANewMemberOfAFullRoomIsRateLimitedAndNothingChanges()
    {
        var room = await Server.CreateRoomAsync();
        var members = new List<JoinedMember>();
        try
        {
            for (var i = 0; i < LimitSettings.MaxMembersPerRoom; i++)
            {
                members.Add(await Server.JoinAsync(room, "m" + i));
            }

            await using var late = await Server.ConnectAsync(await Server.TokenAsync(room, "late"));
            var act = () => late.InvokeAsync("Join", room.Id, null);
            var refused = (await act.Should().ThrowAsync<HubErrorException>()).Which;
            refused.Code.Should().Be(RoomErrorCodes.RateLimited, "a reached limit, not a removal (forbidden means removed to clients)");
            refused.ErrorText.Should().Contain("full").And.Contain($"{LimitSettings.MaxMembersPerRoom} members", "the message names the limit (DESIGN §5)");

            var snapshot = await Server.SnapshotAsync(room);
            snapshot.Members.Should().HaveCount(LimitSettings.MaxMembersPerRoom);
            snapshot.Members.Select(m => m.MemberId).Should().NotContain("late");

            // A member already in the room still gets in from another device.
            await using var again = await Server.ConnectAsync(await Server.TokenAsync(room, "m0"));
            await again.InvokeAsync("Join", room.Id, null);

            var observer = members[^1];
            await AssertNothingChangedAsync(room, observer, LimitSettings.MaxMembersPerRoom);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task OneConnectionPastTheMembersLimitIsRateLimitedUntilAnotherLeaves()
    {
        var (room, ann, bob) = await RoomWithTwoMembersAsync();
        await using var _ = ann;
        await using var __ = bob;
        var token = await Server.TokenAsync(room, "ann");
        await using var second = await Server.ConnectAsync(token);
        await second.InvokeAsync("Join", room.Id, null);
        await using var third = await Server.ConnectAsync(token);

        var join = () => third.InvokeAsync("Join", room.Id, null);
        var refused = (await join.Should().ThrowAsync<HubErrorException>()).Which;
        refused.Code.Should().Be(RoomErrorCodes.RateLimited);
        refused.ErrorText.Should().Contain($"already has {LimitSettings.MaxConnectionsPerMember} open connections", "the message names the limit (DESIGN §5)");
        await AssertNothingChangedAsync(room, bob, 2);

        await second.InvokeAsync("Leave", room.Id);
        await third.InvokeAsync("Join", room.Id, null);
        (await third.AdjustChoiceAsync(room, "pizza", 1)).Quantity.Should().Be(1, "the third connection joined once the second left");
    }
}
