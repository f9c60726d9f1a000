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
        (await Server.SnapshotAsync(room)).Version.Should().Be(2 + accepted);

        // A removal needs an open room (a locked one answers room_locked first): the API reopens it
        // without spending the owner's bucket.
        var reopened = 0;
        if ((await Server.SnapshotAsync(room)).State == "locked")
        {
            (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "open" })).EnsureSuccessStatusCode();
            reopened = 1;
        }

        // A token comes back within a second of the refusal: the reads and the reopen above may have outlasted it on a
        // loaded box. Whatever came back is spent (the owner's choices are writes too), so the removal follows a refusal.
        var (refilled, code) = await WriteUntilRefusedAsync(room, owner.Client);
        code.Should().Be(RoomErrorCodes.RateLimited);
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, "bob")).Should().Be(RoomErrorCodes.RateLimited);
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Members.Select(m => m.MemberId).Should().Contain("bob", "the refused removal changed nothing");
        snapshot.Version.Should().Be(2 + accepted + reopened + refilled);

        // The API is limited per API key over HTTP, not by the owner's bucket.
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();
    }
}
