using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A removed member's device that was connected before the removal and calls <c>Join</c> after it (DESIGN.md §3
/// <c>Removed</c>, §5): refused <c>forbidden</c>, nothing changes, nobody is told anything, and the device reads
/// nothing of the room — not even in the moment its Join is in the room's fan-out while the store decides. That
/// moment is held open here (<see cref="JoinHold"/>) while the room changes, so the test does not depend on timing.
/// </summary>
public abstract class RemovedMemberJoinTests(ContractServer server, JoinHold hold)
{
    /// <param name="removedBefore">
    /// false: the member's first removal applies while the device's Join waits for the store (it is also closed
    /// about 0.4 s after that removal, so its Join may find it closed instead). true: the member was removed and the
    /// device connected with a token issued since; the owner's repeated removal refuses that token, and closes nothing.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AJoinFromAConnectionOpenedBeforeItsMembersRemovalIsForbiddenAndShowsItNothing(bool removedBefore)
    {
        var room = await server.CreateRoomAsync();
        await using var olga = await server.JoinAsync(room, "olga", "owner");
        await using var ann = await server.JoinAsync(room, "ann");
        await using var bob = await server.JoinAsync(room, "bob");
        var version = bob.Joined.Position.Version;
        if (removedBefore)
        {
            (await olga.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob")).Version.Should().Be(++version);
            await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        }

        await using var device = await server.ConnectAsync(await server.TokenAsync(room, "bob"));
        await ann.Client.SkipEventsThroughAsync(version);
        var presenceBefore = ann.Client.Received("Presence").Count;

        hold.Arm("bob");
        var join = device.RejectedCodeUnlessClosedFirstAsync("Join", room.Id, null);
        await hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            // The removal (a first one sends member_removed; a repeat sends nothing) and a change by the owner,
            // both while the device's Join waits for the store.
            var removal = await olga.Client.InvokeAsync<VersionAck>("RemoveMember", room.Id, "bob");
            removal.Version.Should().Be(removedBefore ? version : ++version);
            (await olga.Client.SetChoiceAsync(room, "cola", 1)).Version.Should().Be(++version);
            await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == version, TimeSpan.FromSeconds(10));
        }
        finally
        {
            hold.Release();
        }

        var answer = await join;
        if (removedBefore)
        {
            answer.Should().Be(RoomErrorCodes.Forbidden, "a removed member's Join is refused");
        }
        else
        {
            answer.Should().BeOneOf(RoomErrorCodes.Forbidden, null); // or closed first, by its removal's eviction
        }

        foreach (var target in new[] { "RoomEvent", "Presence", "Position" })
        {
            device.Received(target).Should().BeEmpty($"the removed member's device reads nothing of the room ({target})");
        }

        ann.Client.Received("Presence").Skip(presenceBefore)
            .Select(p => p.Deserialize<PresenceChange>(ContractServer.Json)!)
            .Should().NotContain(p => p.MemberId == "bob" && p.Online, "the refused Join announced nobody");
        var snapshot = await server.SnapshotAsync(room);
        snapshot.Version.Should().Be(version, "the refused Join changed nothing");
        snapshot.Members.Select(m => m.MemberId).Should().BeEquivalentTo(["olga", "ann"], "bob is neither a member nor present");
        var barrier = await olga.Client.AdjustChoiceAsync(room, "cola", 1);
        (await ann.Client.NextEventAsync()).Version.Should().Be(barrier.Version, "the refused Join sent no event");
    }

    /// <summary>Embedded mode, its store's Join held on demand.</summary>
    public sealed class EmbeddedServer : JoinHoldEmbeddedServer;

    /// <summary>Redis mode, its store's Join held on demand.</summary>
    public sealed class RedisServer : JoinHoldRedisServer;
}

[Trait("Suite", "Contract")]
public sealed class EmbeddedRemovedMemberJoinTests(RemovedMemberJoinTests.EmbeddedServer server)
    : RemovedMemberJoinTests(server, server.Hold), IClassFixture<RemovedMemberJoinTests.EmbeddedServer>;

[Trait("Suite", "Contract")]
public sealed class RedisRemovedMemberJoinTests(RemovedMemberJoinTests.RedisServer server)
    : RemovedMemberJoinTests(server, server.Hold), IClassFixture<RemovedMemberJoinTests.RedisServer>;
