using System.Net.Http.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

public abstract partial class LimitTests
{
    [Fact]
    public async Task WritesPastTheMembersBurstAreRateLimitedAndChangeNothing()
    {
        var (room, ann, bob) = await RoomWithTwoMembersAsync();
        await using var _ = ann;
        await using var __ = bob;

        var (accepted, code) = await WriteUntilRefusedAsync(room, ann.Client);

        code.Should().Be(RoomErrorCodes.RateLimited);
        accepted.Should().BeGreaterThanOrEqualTo(LimitSettings.MemberOpsBurst, "a full bucket takes a whole burst");
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Choices.Should().ContainSingle().Which.Quantity.Should().Be(accepted, "only acknowledged writes were applied");
        await AssertNothingChangedAsync(room, bob, 2 + accepted);
    }

    [Fact]
    public async Task TheMembersConnectionsDrawOnOneBucket()
    {
        var (room, ann, bob) = await RoomWithTwoMembersAsync();
        await using var _ = ann;
        await using var __ = bob;
        await using var annPhone = await Server.ConnectAsync(await Server.TokenAsync(room, "ann"));
        await annPhone.InvokeAsync("Join", room.Id, null);

        var (accepted, code) = await WriteUntilRefusedAsync(room, ann.Client, annPhone);

        code.Should().Be(RoomErrorCodes.RateLimited);
        accepted.Should().BeGreaterThanOrEqualTo(LimitSettings.MemberOpsBurst)
            .And.BeLessThan(2 * LimitSettings.MemberOpsBurst, "two connections of one member share one bucket, not one each");
        await AssertNothingChangedAsync(room, bob, 2 + accepted);
    }

    [Fact]
    public async Task ARateLimitedMemberMayWriteAgainOnceTheBucketRefills()
    {
        var (room, ann, bob) = await RoomWithTwoMembersAsync();
        await using var _ = ann;
        await using var __ = bob;
        var (accepted, _) = await WriteUntilRefusedAsync(room, ann.Client);

        // One token comes back after 1/MemberOpsPerSecond s; polled (bounded), never slept for.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        ChoiceAck? ack = null;
        while (ack is null)
        {
            try
            {
                ack = await ann.Client.AdjustChoiceAsync(room, "pizza", 1);
            }
            catch (HubErrorException refused) when (refused.Code == RoomErrorCodes.RateLimited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }

        ack.Version.Should().Be(2 + accepted + 1, "the refused writes took no version");
        ack.Quantity.Should().Be(accepted + 1);
    }

    [Fact]
    public async Task ARetryOfAnAcknowledgedWriteIsAnsweredEvenWhenTheBucketIsEmpty()
    {
        var (room, ann, bob) = await RoomWithTwoMembersAsync();
        await using var _ = ann;
        await using var __ = bob;
        var first = await ann.Client.SetChoiceAsync(room, "pasta", 2, "op-1");
        await WriteUntilRefusedAsync(room, ann.Client);

        var retry = await ann.Client.SetChoiceAsync(room, "pasta", 2, "op-1");

        retry.Should().Be(first, "a replayed opId changes nothing, so it costs nothing");
    }

    [Fact]
    public async Task TheOwnersStateChangesAndRemovalsCountAsTheirWrites()
    {
        var room = await Server.CreateRoomAsync();
        await using var owner = await Server.JoinAsync(room, "olga", "owner");
        await using var bob = await Server.JoinAsync(room, "bob");
        await using var cy = await Server.JoinAsync(room, "cy"); // the room's last place (LimitSettings)
        string[] removable = [bob.MemberId, cy.MemberId];
        var start = (await Server.SnapshotAsync(room)).Version;
        var refused = false;
        var accepted = 0;
        for (var i = 0; i < 4 * LimitSettings.MemberOpsBurst && !refused; i++)
        {
            try
            {
                await owner.Client.InvokeAsync("SetRoomState", room.Id, i % 2 == 0 ? "locked" : "open");
                accepted++;
            }
            catch (HubErrorException error)
            {
                error.Code.Should().Be(RoomErrorCodes.RateLimited);
                refused = true;
            }
        }

        refused.Should().BeTrue("the owner's state changes are rate limited like any write");
        (await Server.SnapshotAsync(room)).Version.Should().Be(start + accepted);

        // A removal needs an open room (a locked one answers room_locked first): the API reopens it
        // without spending the owner's bucket.
        var reopened = 0;
        if ((await Server.SnapshotAsync(room)).State == "locked")
        {
            (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "open" })).EnsureSuccessStatusCode();
            reopened = 1;
        }

        // The bucket refills continuously: a whole token may come back at any moment of the second after a refusal,
        // between it and the removal. Whatever came back is spent first (the owner's choices are writes too), and a
        // removal accepted all the same (a token back in that one round trip) is made again of the other member: one
        // removal of the two refused proves they are counted; both accepted means they are not.
        var expected = start + accepted + reopened;
        string? kept = null;
        foreach (var memberId in removable)
        {
            var (refilled, code) = await WriteUntilRefusedAsync(room, owner.Client);
            code.Should().Be(RoomErrorCodes.RateLimited);
            expected += refilled;
            try
            {
                await owner.Client.InvokeAsync("RemoveMember", room.Id, memberId);
                expected++; // accepted: a token came back in between
            }
            catch (HubErrorException error)
            {
                error.Code.Should().Be(RoomErrorCodes.RateLimited);
                kept = memberId;
                break;
            }
        }

        kept.Should().NotBeNull("the owner's removals are rate limited like any write");
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Members.Select(m => m.MemberId).Should().Contain(kept!, "the refused removal changed nothing");
        snapshot.Version.Should().Be(expected);

        // The API is limited per API key over HTTP, not by the owner's bucket.
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();
    }
}
