using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>Removing a member (DESIGN.md §3 RemoveMember, §4 DELETE .../members/{memberId}).</summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task TheOwnerRemovesAMemberWhoseChoicesLeaveTheOrderAndWhoseConnectionIsToldAndClosed()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var bob = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);
        await bob.Client.SetChoiceAsync(room, "pizza", 2);
        await owner.Client.SetChoiceAsync(room, "cola", 1);
        await owner.Client.SkipEventsThroughAsync(4);
        var before = await Server.SnapshotAsync(room);
        before.TotalMinor.Should().Be((2 * 1150) + 300);

        (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(5);

        (await owner.Client.NextEventShouldBeAsync(5)).Should().BeEquivalentTo(new { Type = RoomEventTypes.MemberRemoved, MemberId = "bob", By = "olga" });
        var removed = await bob.Client.NextAsync("Removed", TimeSpan.FromSeconds(5));
        removed.Deserialize<MemberRemovedNotice>(ContractServer.Json).Should().Be(new MemberRemovedNotice(room.Id, "bob", "olga"));
        await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));

        var after = await Server.SnapshotAsync(room);
        after.Members.Select(m => m.MemberId).Should().Equal("olga");
        after.Choices.Should().Equal(new SnapshotChoice("olga", "cola", 1));
        after.TotalMinor.Should().Be(300, "the removed member's choices left the order in the same step");
    }

    [Fact]
    public async Task ARemovedMembersOldTokenIsRefusedAndANewTokenReadmitsThem()
    {
        var room = await Server.CreateRoomAsync();
        var oldToken = await Server.TokenAsync(room, "bob");
        await using (var bob = await Server.ConnectAsync(oldToken))
        {
            await bob.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        var delete = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        delete.StatusCode.Should().Be(HttpStatusCode.OK);
        (await delete.Content.ReadFromJsonAsync<VersionAck>(ContractServer.Json))!.Version.Should().Be(2);

        var connect = () => Server.ConnectAsync(oldToken);
        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}") { Headers = { Authorization = new("Bearer", oldToken) } };
        (await Server.Anonymous.SendAsync(read)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the old token reads nothing either");

        await using var again = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        var joined = await again.InvokeAsync<JoinResult>("Join", room.Id, null);
        joined.Position.Version.Should().Be(3, "the re-admitted member joins anew with a member event");
        joined.Snapshot!.Members.Select(m => m.MemberId).Should().Contain("bob");
    }

    /// <summary>
    /// Every replica closes a removed member's connections a moment after the removal (the notice's head
    /// start). A member re-admitted within that moment joined with a new token: only the old connection closes.
    /// </summary>
    [Fact]
    public async Task AMemberReadmittedRightAfterTheirRemovalKeepsTheNewConnection()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var old = await Server.JoinAsync(room, "bob");
        await ann.Client.NextEventShouldBeAsync(2);

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        await using var readmitted = await Server.JoinAsync(room, "bob");
        readmitted.Joined.Position.Version.Should().Be(4, "removed at 3, joined anew at 4");

        await old.Client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        await ann.Client.SkipEventsThroughAsync(4);
        await TickClock.LetTimePassAsync(Server, TimeSpan.FromSeconds(1.5));
        readmitted.Client.Closed.IsCompleted.Should().BeFalse("the new connection's token was issued after the removal");
        (await readmitted.Client.SetChoiceAsync(room, "pizza", 1)).Version.Should().Be(5);
    }

    [Fact]
    public async Task ATokenIssuedAfterARemovalGetsInEvenFromAReplicaWhoseClockIsBehind()
    {
        var room = await Server.CreateRoomAsync();
        await using (var bob = await Server.ConnectAsync(await Server.TokenAsync(room, "bob")))
        {
            await bob.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);

        // Issued after the removal (it carries the removal generation the store now holds, 1) by a replica
        // whose clock is ten minutes behind: its iat is before the removal, and it does not matter.
        var lagging = TestTokens.Mint(Server.SigningKey, room.Id, "bob", "Bob", removalGeneration: 1, issuedAt: DateTimeOffset.UtcNow.AddMinutes(-10));
        await using var again = await Server.ConnectAsync(lagging);
        var joined = await again.InvokeAsync<JoinResult>("Join", room.Id, null);
        joined.Position.Version.Should().Be(3, "the re-admitted member joins anew with a member event");
        (await again.SetChoiceAsync(room, "pizza", 1)).Version.Should().Be(4, "its calls pass the same check");
    }

    [Fact]
    public async Task ATokenFromBeforeTheLatestRemovalOrWithoutAGenerationIsRefusedHoweverLateItWasIssued()
    {
        var room = await Server.CreateRoomAsync();
        var first = await Server.TokenAsync(room, "bob");
        await using (var bob = await Server.ConnectAsync(first))
        {
            await bob.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        var second = await Server.TokenAsync(room, "bob");
        await using (var bob = await Server.ConnectAsync(second))
        {
            await bob.InvokeAsync<JoinResult>("Join", room.Id, null);
        }

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);

        // The token issued between the removals (generation 1) is refused after the second; so is one
        // minted elsewhere without the claim (generation 0), though its clock says it is brand new.
        var unmarked = TestTokens.Mint(Server.SigningKey, room.Id, "bob", "Bob", issuedAt: DateTimeOffset.UtcNow.AddSeconds(-1));
        foreach (var token in new[] { first, second, unmarked })
        {
            var connect = () => Server.ConnectAsync(token);
            (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
        }

        await using var third = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        (await third.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(5, "member, removed, member, removed, member");
    }

    /// <summary>
    /// A device of the member that is connected but not in the room — it never joined, or its Join failed and it
    /// waits to retry — is closed with the others (DESIGN.md §3 <c>Removed</c>), not left open until its token expires.
    /// </summary>
    [Fact]
    public async Task ARemovedMembersConnectionThatIsNotInTheRoomIsToldAndClosedToo()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var joined = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);
        await using var notJoined = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);

        await notJoined.NextAsync("Removed", TimeSpan.FromSeconds(5));
        (await Task.WhenAny(notJoined.Closed, Task.Delay(TimeSpan.FromSeconds(3)))).Should().BeSameAs(notJoined.Closed, "every device of a removed member is closed");
        await joined.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    /// <summary>
    /// As above, with nobody in the room on the server: it no longer follows the room's channel (the last
    /// member left), so the removal event does not reach it; the removal broadcast does.
    /// </summary>
    [Fact]
    public async Task ARemovedMembersConnectionIsClosedAlsoWhereNobodyIsInTheRoom()
    {
        var room = await Server.CreateRoomAsync();
        var phone = await Server.JoinAsync(room, "bob");
        await phone.DisposeAsync();

        var membership = Server.Services.GetRequiredService<RoomShare.RoomServer.Fanout.RoomMembership>();
        await Poll.UntilAsync(() => membership.Snapshot(r => r == room.Id).Count == 0, TimeSpan.FromSeconds(5), "bob's phone left the room");
        await using var tablet = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);

        await tablet.NextAsync("Removed", TimeSpan.FromSeconds(5));
        (await Task.WhenAny(tablet.Closed, Task.Delay(TimeSpan.FromSeconds(3)))).Should().BeSameAs(tablet.Closed, "every device of a removed member is closed");
    }

    /// <summary>
    /// A removal whose reply was lost (an <c>unavailable</c> at the deadline, the write applied) is retried, or
    /// the owner and the API remove the same member at once: the second changes nothing anyone sees — no
    /// event, no second <c>Removed</c>, the current version (DESIGN.md §2, §3 <c>RemoveMember</c>) — instead
    /// of calling a removed member "not a member".
    /// </summary>
    [Fact]
    public async Task RemovingAMemberAgainAnswersTheCurrentVersionWithoutAnEventAndRefusesTokensIssuedSince()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using (var bob = await Server.JoinAsync(room, "bob"))
        {
            await owner.Client.NextEventShouldBeAsync(2);
            (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(3);
            (await owner.Client.NextEventShouldBeAsync(3)).Type.Should().Be(RoomEventTypes.MemberRemoved);

            // The first removal's Removed reaches bob's replica on SignalR's backplane, a moment after the owner's
            // reply and event: left in flight, it would also reach a device of bob's that connected in that
            // moment (below), which is the first removal's notice, not a second one.
            await bob.Client.NextAsync("Removed", TimeSpan.FromSeconds(5));

            // The first removal's close is over too: one still running would close the devices below itself (it
            // reads the member's generation last), telling them that removal's by, and the repeat's close is dropped.
            await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        }

        // A token issued after the first removal, and connections made with it (not joined): the retry
        // refuses the token, as the removal it repeats would have, and tells nobody anything — but a connection
        // it closes is told Removed first, as every closed connection of a removed member is. The quiet one makes
        // no call, so only the repeat's close reaches it; the lingering one's Join is refused (or finds it closed).
        var issuedBetween = await Server.TokenAsync(room, "bob");
        await using var lingering = await Server.ConnectAsync(issuedBetween);
        await using var quiet = await Server.ConnectAsync(issuedBetween);

        var again = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        (await again.Content.ReadFromJsonAsync<VersionAck>(ContractServer.Json))!.Version.Should().Be(3);
        (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(3);
        await AssertNothingChangedAsync(room, owner, 3);
        // Refused as a removal refuses: a call is forbidden, and the connection is closed (the repeat is
        // broadcast again, since a lost first reply may have left a replica not following the room uninformed).
        (await lingering.RejectedCodeUnlessClosedFirstAsync("Join", room.Id, null)).Should().BeOneOf("forbidden", null);
        await lingering.Closed.WaitAsync(TimeSpan.FromSeconds(3));
        await quiet.ShouldBeToldRemovedThenClosedAsync(room.Id, "bob", by: "api", TimeSpan.FromSeconds(3));

        var connect = () => Server.ConnectAsync(issuedBetween);
        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
        await using var readmitted = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        (await readmitted.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(5, "a token issued after the retry re-admits bob");
    }

    /// <summary>
    /// A removal applied whose reply was lost, retried after the room was locked (or closed): the member is gone and
    /// their choices left the order before it was handed off, so the retry is answered as any repeat is — 200, the
    /// current version, no event (DESIGN.md §4) — not 409, which would say the member is still in the order. The
    /// owner's <c>RemoveMember</c> (the same script) answers alike.
    /// </summary>
    [Theory]
    [InlineData("locked")]
    [InlineData("closed")]
    public async Task RemovingAMemberAgainAfterTheRoomWasLockedOrClosedAnswersTheCurrentVersion(string state)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using (var bob = await Server.JoinAsync(room, "bob"))
        {
            await owner.Client.NextEventShouldBeAsync(2);
            (await bob.Client.SetChoiceAsync(room, "pizza", 2)).Version.Should().Be(3);
            using var removal = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
            removal.StatusCode.Should().Be(HttpStatusCode.OK);
            (await removal.Content.ReadFromJsonAsync<VersionAck>(ContractServer.Json))!.Version.Should().Be(4);
            await bob.Client.NextAsync("Removed", TimeSpan.FromSeconds(5));
        }

        using (var change = await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state }))
        {
            (await change.Content.ReadFromJsonAsync<VersionAck>(ContractServer.Json))!.Version.Should().Be(5);
        }

        using var again = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");

        again.StatusCode.Should().Be(HttpStatusCode.OK, "bob was removed before the room was {0}", state);
        (await again.Content.ReadFromJsonAsync<VersionAck>(ContractServer.Json))!.Version.Should().Be(5);
        (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(5);
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Version.Should().Be(5, "a repeat appends no event (every event takes a version)");
        snapshot.State.Should().Be(state);
        snapshot.Members.Select(m => m.MemberId).Should().Equal("olga");
        snapshot.TotalMinor.Should().Be(0, "bob's choices left the order before it was handed off");
    }

    /// <summary>
    /// A member the room never had is no member in a locked or closed room either: <c>invalid_argument</c>, as in an open
    /// one (DESIGN.md §3), not the 409 that DESIGN.md §4 keeps for a member still in the room. The owner, still in the
    /// room, is answered by the room's state.
    /// </summary>
    [Theory]
    [InlineData("locked", "room_locked")]
    [InlineData("closed", "room_closed")]
    public async Task RemovingAMemberTheRoomNeverHadIsInvalidInALockedOrClosedRoomToo(string state, string stateCode)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state })).EnsureSuccessStatusCode();
        await owner.Client.NextEventShouldBeAsync(2);

        using var unknown = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/nobody");
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "invalid_argument", Status = 400 });
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, "nobody")).Should().Be("invalid_argument");

        using var ownerViaApi = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/olga");
        ownerViaApi.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ownerViaApi.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(stateCode);

        // No change can be the barrier here (the room takes none), so the snapshot says it: no event took a version.
        var snapshot = await Server.SnapshotAsync(room);
        (snapshot.Version, snapshot.State).Should().Be((2, state));
        snapshot.Members.Select(m => m.MemberId).Should().Equal("olga");
    }

    [Fact]
    public async Task ACallFromARemovedMembersOpenConnectionIsForbiddenAndChangesNothing()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var bob = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);

        // Straight after the removal, before its event closes bob's connection (about 0.4 s later).
        var removal = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob");
        removal.StatusCode.Should().Be(HttpStatusCode.OK);
        (await bob.Client.RejectedCodeUnlessClosedFirstAsync("SetChoice", room.Id, "pizza", 1, null)).Should().BeOneOf("forbidden", null);

        (await owner.Client.NextEventShouldBeAsync(3)).Type.Should().Be(RoomEventTypes.MemberRemoved);
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Version.Should().Be(3, "the refused call changed nothing");
        snapshot.Choices.Should().BeEmpty();
        await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    /// <summary>
    /// As for SetChoice above, for the other writes a member makes: straight after the removal, before its event
    /// closes the connection (about 0.4 s later), one call each (a refused call closes the connection too).
    /// </summary>
    [Theory]
    [InlineData("Refresh")]
    [InlineData("AdjustChoice")]
    public async Task ARefreshOrAdjustChoiceFromARemovedMembersOpenConnectionIsForbiddenAndChangesNothing(string method)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var bob = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);

        (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(3);
        object?[] args = method == "Refresh" ? [room.Id] : [room.Id, "pizza", 1, null];
        (await bob.Client.RejectedCodeUnlessClosedFirstAsync(method, args)).Should().BeOneOf("forbidden", null);

        (await owner.Client.NextEventShouldBeAsync(3)).Type.Should().Be(RoomEventTypes.MemberRemoved);
        (await Server.SnapshotAsync(room)).Choices.Should().BeEmpty();
        await AssertNothingChangedAsync(room, owner, 3);
        await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    /// <summary>
    /// A device of the member connected before their removal that never joined: its call needing a Join is its
    /// member's removal (<c>forbidden</c>, DESIGN.md §3), not a missing Join — straight after the removal, before
    /// the removal closes it (about 0.4 s later). Before the removal, the same call is "call Join first".
    /// </summary>
    [Theory]
    [InlineData("SetChoice", "api")]
    [InlineData("AdjustChoice", "owner")]
    [InlineData("Refresh", "api")]
    public async Task ACallFromARemovedMembersConnectionThatNeverJoinedIsForbiddenAndChangesNothing(string method, string removedBy)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var phone = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);
        await using var tablet = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        object?[] args = method == "Refresh" ? [room.Id] : [room.Id, "pizza", 1, null];
        (await tablet.RejectedCodeAsync(method, args)).Should().Be("invalid_argument", "a member not removed is told to Join first");

        if (removedBy == "api")
        {
            (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        else
        {
            (await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(3);
        }

        (await tablet.RejectedCodeUnlessClosedFirstAsync(method, args)).Should().BeOneOf(["forbidden", null], "the member was removed after the token was issued");
        (await owner.Client.NextEventShouldBeAsync(3)).Type.Should().Be(RoomEventTypes.MemberRemoved);
        await AssertNothingChangedAsync(room, owner, 3);
        await tablet.Closed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task RemovingAMemberWhoJoinedAsAnOwnerIsInvalidAndChangesNothing()
    {
        var (room, olga) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = olga;
        await using var oscar = await Server.JoinAsync(room, "oscar", "owner");
        await olga.Client.NextEventShouldBeAsync(2);
        (await oscar.Client.SetChoiceAsync(room, "pizza", 2)).Version.Should().Be(3);
        await olga.Client.NextEventShouldBeAsync(3);

        (await olga.Client.RejectedCodeAsync("RemoveMember", room.Id, "oscar")).Should().Be("invalid_argument");

        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Members.Select(m => m.MemberId).Should().BeEquivalentTo("olga", "oscar");
        snapshot.Choices.Should().Equal(new SnapshotChoice("oscar", "pizza", 2));
        await AssertNothingChangedAsync(room, olga, 3);
        (await oscar.Client.SetChoiceAsync(room, "pizza", 3)).Version.Should().Be(5, "oscar keeps his connection and his rights");
        oscar.Client.Received("Removed").Should().BeEmpty();
    }

    [Fact]
    public async Task RemovingAMemberClosesEveryOneOfTheirConnections()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var phone = await Server.JoinAsync(room, "bob");
        await using var laptop = await Server.JoinAsync(room, "bob");

        await owner.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob");

        foreach (var device in new[] { phone, laptop })
        {
            (await device.Client.NextAsync("Removed", TimeSpan.FromSeconds(5))).GetProperty("memberId").GetString().Should().Be("bob");
            await device.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));
        }
    }

    [Fact]
    public async Task RemovingAnUnknownMemberOrTheOwnerIsInvalidAndChangesNothing()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;

        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, "nobody")).Should().Be("invalid_argument");
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, "olga")).Should().Be("invalid_argument");
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, "bad:id")).Should().Be("invalid_argument");
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, 42)).Should().Be("invalid_argument");

        var unknown = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/nobody");
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "invalid_argument", Status = 400 });
        var ownerViaApi = await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/olga");
        (await ownerViaApi.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "invalid_argument", Status = 400 });
        var noRoom = await Server.Api.DeleteAsync("/api/rooms/no-such-room/members/olga");
        noRoom.StatusCode.Should().Be(HttpStatusCode.NotFound);

        await AssertNothingChangedAsync(room, owner, 1);
    }

    [Fact]
    public async Task ANonOwnerCannotRemoveAMember()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var bob = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);

        (await bob.Client.RejectedCodeAsync("RemoveMember", room.Id, "olga")).Should().Be("forbidden");
        (await Server.Anonymous.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        await AssertNothingChangedAsync(room, owner, 2);
        (await Server.SnapshotAsync(room)).Members.Should().HaveCount(2);
    }

    [Fact]
    public async Task AnAnnouncementReachesEveryConnectedClient()
    {
        var (room, ann) = await RoomWithMemberAsync("ann");
        await using var _ = ann;
        await using var stranger = await Server.ConnectAsync(await Server.TokenAsync(await Server.CreateRoomAsync(), "zed"));

        var response = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message = "Back in 5 minutes" });
        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var id = (await response.Content.ReadFromJsonAsync<AnnouncementAck>(ContractServer.Json))!.Id;

        foreach (var client in new[] { ann.Client, stranger })
        {
            var announcement = (await client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).Deserialize<Announcement>(ContractServer.Json)!;
            announcement.Should().BeEquivalentTo(new { Id = id, Kind = "maintenance", Message = "Back in 5 minutes" });
        }

        (await Server.SnapshotAsync(room)).Version.Should().Be(1, "an announcement is not a room event");
    }

    [Fact]
    public async Task ABadAnnouncementIsRefusedAndSendsNothing()
    {
        var (_, ann) = await RoomWithMemberAsync("ann");
        await using var __ = ann;

        var empty = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message = "  " });
        (await empty.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "invalid_argument", Status = 400 });
        var noKind = await Server.Api.PostAsJsonAsync("/api/announcements", new { message = "hello" });
        (await noKind.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "invalid_argument", Status = 400 });
        var oversized = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message = new string('x', 501) });
        (await oversized.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "payload_too_large", Status = 413 });

        // Counted in UTF-16 code units (§6): 251 emoji are 502 of them.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F355", 251));
        var oversizedEmoji = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "maintenance", message = emoji });
        (await oversizedEmoji.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "payload_too_large", Status = 413 });
        (await Server.Anonymous.PostAsJsonAsync("/api/announcements", new { kind = "k", message = "m" })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        // Barrier: a good announcement arrives, and it is the first one. 250 emoji are 500 code units, exactly the limit
        // (1 000 bytes of UTF-8: a count of bytes would have refused it).
        var atTheLimit = string.Concat(Enumerable.Repeat("\U0001F355", 250));
        (await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = atTheLimit })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("message").GetString().Should().Be(atTheLimit);
    }
}
