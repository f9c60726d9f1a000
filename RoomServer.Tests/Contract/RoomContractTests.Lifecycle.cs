using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Fact]
    public async Task TheOwnerLocksAndReopensAndChoicesAreRefusedWhileLocked()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await using var bob = await Server.JoinAsync(room, "bob");
        await owner.Client.NextEventShouldBeAsync(2);

        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "locked")).Version.Should().Be(3);
        (await owner.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.State, State = "locked", By = "olga" });

        (await bob.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("room_locked");
        (await bob.Client.RejectedCodeAsync("AdjustChoice", room.Id, "pizza", 1, null)).Should().Be("room_locked");
        (await Server.SnapshotAsync(room)).Should().BeEquivalentTo(new { Version = 3L, State = "locked", Choices = Array.Empty<SnapshotChoice>() });

        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "open")).Version.Should().Be(4);
        (await bob.Client.SetChoiceAsync(room, "pizza", 1)).Should().Be(new ChoiceAck(5, 1));
    }

    [Fact]
    public async Task SettingTheCurrentStateAgainIsANoOp()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;

        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "open")).Version.Should().Be(1);
        await AssertNothingChangedAsync(room, owner, 1);
    }

    [Fact]
    public async Task AClosedRoomIsFinalAndReadOnly()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        await owner.Client.InvokeAsync("SetRoomState", room.Id, "locked");
        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "closed")).Version.Should().Be(3);

        (await owner.Client.RejectedCodeAsync("SetRoomState", room.Id, "open")).Should().Be("room_closed");
        (await owner.Client.RejectedCodeAsync("SetRoomState", room.Id, "locked")).Should().Be("room_closed");
        (await owner.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("room_closed");
        (await owner.Client.RejectedCodeAsync("Refresh", room.Id)).Should().Be("room_closed");
        var put = await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "open" });
        put.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await put.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "room_closed", Status = 409 });

        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Should().BeEquivalentTo(new { Version = 3L, State = "closed" });
        await using var late = await Server.JoinAsync(room, "late");
        late.Joined.Snapshot!.State.Should().Be("closed", "a closed room can still be read");
        late.Joined.Position.Version.Should().Be(3, "joining a closed room adds no member");
        (await late.Client.RejectedCodeAsync("Refresh", room.Id)).Should().Be("room_closed", "a reader who is no member adds nothing either");
        (await Server.SnapshotAsync(room)).Version.Should().Be(3, "no refresh event (every event is a version)");
    }

    [Fact]
    public async Task OpenCanGoStraightToClosed()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;

        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "closed")).Version.Should().Be(2);
        (await owner.Client.NextEventShouldBeAsync(2)).State.Should().Be("closed");
    }

    /// <summary>
    /// DESIGN.md §8: a transition into closed writes an <c>order.closed</c> record in the same step — from locked
    /// (after its <c>order.submitted</c>) and from open alike. The contract server has no webhooks, so the
    /// records stay in the operator view.
    /// </summary>
    [Fact]
    public async Task ClosingALockedOrAnOpenRoomWritesOneOrderClosedRecordAtTheClosingVersion()
    {
        var (locked, olga) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = olga;
        var submitted = await olga.Client.InvokeAsync<VersionAck>("SetRoomState", locked.Id, "locked");
        var closedFromLocked = await olga.Client.InvokeAsync<VersionAck>("SetRoomState", locked.Id, "closed");
        var (open, oscar) = await RoomWithMemberAsync("oscar", "owner");
        await using var __ = oscar;
        var closedFromOpen = await oscar.Client.InvokeAsync<VersionAck>("SetRoomState", open.Id, "closed");

        (await OrderRecordsAsync(locked)).Should().Equal(
            ($"{locked.Id}:{submitted.Version}", "order.submitted", submitted.Version),
            ($"{locked.Id}:{closedFromLocked.Version}", "order.closed", closedFromLocked.Version));
        (await OrderRecordsAsync(open)).Should().Equal(($"{open.Id}:{closedFromOpen.Version}", "order.closed", closedFromOpen.Version));
    }

    [Fact]
    public async Task OnlyTheOwnerMayChangeTheRoomState()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.RejectedCodeAsync("SetRoomState", room.Id, "locked")).Should().Be("forbidden");
        (await Server.SnapshotAsync(room)).State.Should().Be("open");
        await AssertNothingChangedAsync(room, ann, 1);
    }

    /// <summary>
    /// DESIGN §5: <c>forbidden</c> means the token gives no right to the call, so a member's token is refused the owner-only
    /// calls whatever their arguments, as <c>RemoveMember</c> refuses it before reading whom to remove.
    /// </summary>
    [Theory]
    [InlineData("SetRoomState", "bogus")]
    [InlineData("SetRoomState", null)]
    [InlineData("RemoveMember", "bad id!")]
    public async Task AMembersTokenIsForbiddenTheOwnerOnlyCallsWhateverTheirArguments(string method, string? argument)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.RejectedCodeAsync(method, room.Id, argument)).Should().Be("forbidden");
        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task RefreshAsksEveryMemberToReload()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.InvokeAsync<VersionAck>("Refresh", room.Id)).Version.Should().Be(2);
        (await ann.Client.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Refresh, By = "ann" });
    }

    /// <summary>DESIGN §3: <c>Refresh</c> is refused only in a closed room; in a locked one it asks the members to reload, and changes nothing else.</summary>
    [Fact]
    public async Task RefreshWorksInALockedRoomAndChangesNothingElse()
    {
        var (room, olga) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = olga;
        await using var bob = await Server.JoinAsync(room, "bob");
        (await bob.Client.SetChoiceAsync(room, "pizza", 2)).Version.Should().Be(3);
        (await olga.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "locked")).Version.Should().Be(4);
        await olga.Client.SkipEventsThroughAsync(4);
        var before = await Server.SnapshotAsync(room);

        var refreshed = await bob.Client.InvokeAsync<VersionAck>("Refresh", room.Id);

        refreshed.Version.Should().Be(5, "a locked room takes a refresh (only closed refuses it)");
        (await olga.Client.NextEventShouldBeAsync(5)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Refresh, By = "bob" });
        var after = await Server.SnapshotAsync(room);
        after.Should().BeEquivalentTo(before with { Version = 5 }, "a refresh changes nothing but the version: the room stays locked, the order as it was");
    }

    [Fact]
    public async Task LeaveStopsTheConnectionsEventsForTheRoom()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bob = await Server.JoinAsync(room, "bob");
        await ann.Client.NextEventShouldBeAsync(2);

        await bob.Client.InvokeAsync("Leave", room.Id);
        var countAfterLeave = bob.Client.Received("RoomEvent").Count;
        await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.NextEventShouldBeAsync(3);
        await ann.Client.SetChoiceAsync(room, "pizza", 2);
        await ann.Client.NextEventShouldBeAsync(4);

        bob.Client.Received("RoomEvent").Should().HaveCount(countAfterLeave, "after Leave the connection receives no more events");
        (await bob.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("invalid_argument", "changes need a Join first");
        await bob.Client.InvokeAsync("Leave", room.Id);
    }

    /// <summary>
    /// A room whose events this replica never wrote to its members — here a closed room the connections joined as
    /// non-members, after its last event — sends them its position every tick, to JSON and MessagePack alike.
    /// </summary>
    [Fact]
    public async Task MembersNoEventReachedAreSentTheRoomsPositionPeriodically()
    {
        var room = await Server.CreateRoomAsync();
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();
        var closedAt = (await Server.SnapshotAsync(room)).Version;
        await using var zoe = await Server.JoinAsync(room, "zoe");
        await using var zia = await Server.ConnectAsync(await Server.TokenAsync(room, "zia"), o => o.MessagePack = true);
        var joined = await zia.InvokeAsync<JoinResult>("Join", room.Id, null);
        joined.Position.Should().BeEquivalentTo(new RoomPosition(room.Epoch, closedAt), "the close was the last event: first-timers in a closed room are not announced");

        foreach (var client in new[] { zoe.Client, zia })
        {
            for (var tick = 0; tick < 2; tick++)
            {
                var position = await client.NextAsync("Position", TimeSpan.FromSeconds(5));
                position.GetProperty("roomId").GetString().Should().Be(room.Id);
                position.GetProperty("epoch").GetString().Should().Be(room.Epoch);
                position.GetProperty("version").GetInt64().Should().Be(closedAt);
            }
        }
    }

    /// <summary>
    /// Once the room's last event was written to its members, a tick's <c>Position</c> would only repeat it, and is
    /// left out (DESIGN.md §2): a busy room's members get its events, not positions besides. Not forever: after
    /// <see cref="Fanout.MembersPosition.SkippedTicksAtMost"/> ticks left out, the next sends it, for a client that
    /// knew it was behind and whose catch-up failed.
    /// </summary>
    [Fact]
    public async Task APositionTheMembersHadAsAnEventIsLeftOutForAFewTicks()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var annsConnection = ann;
        await using var bob = await Server.JoinAsync(room, "bob");
        await using var clock = await TickClock.StartAsync(Server);
        var ack = await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await bob.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == ack.Version);
        await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == ack.Version);

        // A tick that read the room between the write and its event's delivery rightly sent the position: one tick
        // later any such is in, and what is counted from then on is what a tick sends after the event.
        await clock.LetTicksPassAsync(1);
        var (annsBefore, bobsBefore) = (ann.Client.Received("Position").Count, bob.Client.Received("Position").Count);
        while (bob.Client.TryRead("Position", out _))
        {
        }

        await clock.LetTicksPassAsync(2);

        ann.Client.Received("Position").Should().HaveCount(annsBefore, "ann's own change reached her as an event");
        bob.Client.Received("Position").Should().HaveCount(bobsBefore, "so did it bob");

        var repeated = await bob.Client.WaitForAsync(
            "Position", p => p.GetProperty("version").GetInt64() == ack.Version, TimeSpan.FromSeconds(Fanout.MembersPosition.SkippedTicksAtMost + 4));
        repeated.GetProperty("epoch").GetString().Should().Be(room.Epoch);
        (await Server.SnapshotAsync(room)).Version.Should().Be(ack.Version, "nothing happened in the room since: the position is a repeat");
    }

    private async Task<List<(string OrderId, string Type, long Version)>> OrderRecordsAsync(TestRoom room)
    {
        var order = await Server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}/order");
        return order.GetProperty("records").EnumerateArray()
            .Select(r => (r.GetProperty("orderId").GetString()!, r.GetProperty("type").GetString()!, r.GetProperty("version").GetInt64()))
            .ToList();
    }
}

public sealed record ProblemBody(string Code, int Status, string Title, string? Detail);
