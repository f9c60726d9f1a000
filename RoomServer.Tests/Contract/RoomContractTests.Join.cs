using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Fact]
    public async Task FreshJoinReturnsSnapshotWithMenuMemberAndReplica()
    {
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");

        var joined = ann.Joined;
        joined.Missed.Should().BeNull();
        joined.Replica.Should().Be("contract");
        joined.Position.Should().Be(new RoomPosition(room.Epoch, 1), "the first join of a member is event 1");
        var snapshot = joined.Snapshot!;
        snapshot.RoomId.Should().Be(room.Id);
        snapshot.Name.Should().Be("Table 7");
        snapshot.State.Should().Be(RoomStates.Open);
        snapshot.Menu.Should().Equal(ContractServer.Menu);
        snapshot.Members.Should().Equal(new SnapshotMember("ann", "ANN", true));
        snapshot.Choices.Should().BeEmpty();
        snapshot.Totals.Should().BeEmpty();
        snapshot.TotalMinor.Should().Be(0);

        var memberEvent = await ann.Client.NextEventAsync();
        memberEvent.Should().BeEquivalentTo(new { RoomId = room.Id, Epoch = room.Epoch, Version = 1L, Type = RoomEventTypes.Member, MemberId = "ann", DisplayName = "ANN" });
        DateTimeOffset.Parse(memberEvent.At, System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        memberEvent.At.Should().EndWith("Z");
    }

    [Fact]
    public async Task MemberEventIsSentOnlyOnAMembersFirstJoin()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var annAgain = await Server.JoinAsync(room, "ann");

        annAgain.Joined.Position.Version.Should().Be(1, "a second device of the same member adds no member event");
        annAgain.Joined.Snapshot!.Members.Should().ContainSingle();
        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task JoinSinceTheCurrentPositionReturnsNoMissedEvents()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var rejoin = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = 1 });

        rejoin.Snapshot.Should().BeNull();
        rejoin.Missed.Should().BeEmpty();
        rejoin.Position.Should().Be(new RoomPosition(room.Epoch, 1));
    }

    [Fact]
    public async Task JoinSinceAnOlderPositionReturnsExactlyTheMissedEvents()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using (var bob = await Server.JoinAsync(room, "bob"))
        {
            bob.Joined.Position.Version.Should().Be(2);
        }

        await ann.Client.SetChoiceAsync(room, "pizza", 2);
        await ann.Client.SetChoiceAsync(room, "pasta", 1);
        await ann.Client.SetChoiceAsync(room, "pizza", 0);

        await using var bobBack = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));
        var resumed = await bobBack.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = 2 });

        resumed.Snapshot.Should().BeNull();
        resumed.Position.Version.Should().Be(5);
        resumed.Missed!.Select(e => (e.Version, e.Type, e.MenuId, e.Quantity)).Should().Equal(
            (3L, RoomEventTypes.Choice, "pizza", 2),
            (4L, RoomEventTypes.Choice, "pasta", 1),
            (5L, RoomEventTypes.Choice, "pizza", 0));
    }

    [Fact]
    public async Task JoinWithAStaleEpochReturnsASnapshot()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var rejoin = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = "another-epoch", version = 1 });

        rejoin.Missed.Should().BeNull();
        rejoin.Snapshot!.Epoch.Should().Be(room.Epoch);
        rejoin.Position.Should().Be(new RoomPosition(room.Epoch, 1));
    }

    [Fact]
    public async Task JoinWithAPositionAheadOfTheRoomReturnsASnapshot()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var rejoin = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = 7 });

        rejoin.Missed.Should().BeNull();
        rejoin.Snapshot!.Version.Should().Be(1);
    }

    [Fact]
    public async Task JoinWithAPositionOlderThanTheHistoryReturnsASnapshot()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        for (var i = 1; i <= ContractServer.HistoryLength + 2; i++)
        {
            await ann.Client.SetChoiceAsync(room, "pizza", i % 2 == 0 ? 2 : 1);
        }

        var version = 1 + ContractServer.HistoryLength + 2;
        var stale = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = 1 });
        stale.Missed.Should().BeNull("Join(since) replays at most HistoryLength events");
        stale.Snapshot!.Version.Should().Be(version);

        var oldestReplayed = version - ContractServer.HistoryLength + 1;
        var covered = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = oldestReplayed - 1 });
        covered.Missed!.Select(e => e.Version).Should().Equal(Enumerable.Range((int)oldestReplayed, ContractServer.HistoryLength).Select(v => (long)v));
    }

    [Fact]
    public async Task EventsCarryEveryFieldWithNullsForTheOnesTheirTypeDoesNotUse()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        await ann.Client.SetChoiceAsync(room, "pizza", 3, "op-fields");
        var raw = await ann.Client.NextAsync("RoomEvent");

        var names = raw.EnumerateObject().Select(p => p.Name).ToList();
        names.Should().BeEquivalentTo(["roomId", "epoch", "version", "type", "at", "memberId", "displayName", "menuId", "quantity", "opId", "state", "by", "kind", "payload"]);
        raw.GetProperty("displayName").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        raw.GetProperty("quantity").GetInt32().Should().Be(3);
        raw.GetProperty("opId").GetString().Should().Be("op-fields");
        raw.GetProperty("version").GetInt64().Should().Be(2);
    }
}
