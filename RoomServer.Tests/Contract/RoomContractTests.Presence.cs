using System.Net.Http.Json;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Fact]
    public async Task AMemberComesOnlineOnJoinAndGoesOfflineAfterTheGracePeriod()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var bob = await Server.JoinAsync(room, "bob");
        var online = await ann.Client.NextPresenceAsync(p => p.MemberId == "bob");
        online.Should().BeEquivalentTo(new { Online = true, DisplayName = "BOB", RoomId = room.Id });
        var whileOnline = await Server.SnapshotAsync(room);
        whileOnline.Members.Single(m => m.MemberId == "bob").Online.Should().BeTrue();
        whileOnline.PresenceSeq.Should().Be(online.Seq, "a snapshot carries the presence sequence it reflects");

        await bob.DisposeAsync();

        var offline = await ann.Client.NextPresenceAsync(p => p.MemberId == "bob", TimeSpan.FromSeconds(10));
        offline.Online.Should().BeFalse();
        offline.Seq.Should().BeGreaterThan(online.Seq, "presence announcements are ordered");
        var afterwards = await Server.SnapshotAsync(room);
        afterwards.Members.Single(m => m.MemberId == "bob").Online.Should().BeFalse();
        afterwards.PresenceSeq.Should().Be(offline.Seq);
        afterwards.Version.Should().Be(2, "presence is not versioned");
    }

    /// <summary>
    /// A closed room is read only: someone who first comes to it reads it without becoming a member
    /// (no <c>member</c> event), so they are not announced online either — on their Join or on a tick.
    /// A member coming back still is.
    /// </summary>
    [Fact]
    public async Task AFirstTimerInAClosedRoomIsNotAnnouncedButAMemberComingBackIs()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var bob = await Server.JoinAsync(room, "bob");
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob")).Online.Should().BeTrue();
        await bob.DisposeAsync();
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob", TimeSpan.FromSeconds(10))).Online.Should().BeFalse();
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();

        await using var zoe = await Server.JoinAsync(room, "zoe");
        zoe.Joined.Snapshot!.Members.Select(m => m.MemberId).Should().NotContain("zoe");
        await using var bobAgain = await Server.JoinAsync(room, "bob");
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob")).Online.Should().BeTrue("bob is a member of the closed room");
        await TickClock.LetTimePassAsync(Server, TimeSpan.FromSeconds(2.5));

        ann.Client.Received("Presence").Should().NotContain(p => p.GetProperty("memberId").GetString() == "zoe");
        var snapshot = await Server.SnapshotAsync(room);
        snapshot.Members.Select(m => m.MemberId).Should().NotContain("zoe");
        snapshot.Members.Single(m => m.MemberId == "bob").Online.Should().BeTrue();
    }

    [Fact]
    public async Task SeveralDevicesOfOneMemberMergeIntoOnePresence()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var bobLaptop = await Server.JoinAsync(room, "bob");
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob")).Online.Should().BeTrue();
        await using var bobPhone = await Server.JoinAsync(room, "bob");

        await bobLaptop.DisposeAsync();
        // A grace period and two ticks later, the phone still holds bob online.
        await TickClock.LetTimePassAsync(Server, TimeSpan.FromSeconds(ContractServer.PresenceGraceSeconds + 2));

        ann.Client.Received("Presence").Count(p => p.GetProperty("memberId").GetString() == "bob").Should().Be(1, "one online, and no offline while a device remains");
        (await Server.SnapshotAsync(room)).Members.Single(m => m.MemberId == "bob").Online.Should().BeTrue();

        await bobPhone.DisposeAsync();
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob", TimeSpan.FromSeconds(10))).Online.Should().BeFalse();
    }

    [Fact]
    public async Task AQuickReconnectWithinTheGracePeriodDoesNotFlickerOffline()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var bob = await Server.JoinAsync(room, "bob");
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob")).Online.Should().BeTrue();
        // The new connection is opened first, so only its Join falls inside the grace period.
        await using var bobAgain = await Server.ConnectAsync(await Server.TokenAsync(room, "bob"));

        await bob.DisposeAsync();
        await bobAgain.InvokeAsync("Join", room.Id, null);
        await TickClock.LetTimePassAsync(Server, TimeSpan.FromSeconds(ContractServer.PresenceGraceSeconds + 2));

        ann.Client.Received("Presence").Where(p => p.GetProperty("memberId").GetString() == "bob")
            .Select(p => p.GetProperty("online").GetBoolean()).Should().Equal(true);
    }

    [Fact]
    public async Task AJoinThatResumesFromMissedEventsAlsoSendsEveryMembersCurrentPresence()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var bob = await Server.JoinAsync(room, "bob");
        await bob.DisposeAsync();
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob" && !p.Online, TimeSpan.FromSeconds(10))).Online.Should().BeFalse();

        await using var annPhone = await Server.ConnectAsync(await Server.TokenAsync(room, "ann"));
        var resumed = await annPhone.InvokeAsync<Rooms.JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = 1 });

        resumed.Missed!.Select(e => e.Version).Should().Equal(2L);
        var presence = annPhone.Received("Presence").Select(p => (p.GetProperty("memberId").GetString(), p.GetProperty("online").GetBoolean()));
        presence.Should().BeEquivalentTo([("ann", true), ("bob", false)], "presence is not versioned, so a resume re-sends it");
        var seqs = annPhone.Received("Presence").Select(p => p.GetProperty("seq").GetInt64()).Distinct().ToList();
        seqs.Should().Equal([(await Server.SnapshotAsync(room)).PresenceSeq], "the catch-up is stamped with the sequence it reflects");
    }
}
