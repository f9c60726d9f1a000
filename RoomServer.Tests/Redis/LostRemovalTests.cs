using System.Globalization;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Pub/sub loses messages in an outage. A replica that missed a member_removed event must still close
/// the removed member's connections (DESIGN §3 Removed): its next tick finds them, and tells each <c>Removed</c> first.
/// </summary>
public sealed class LostRemovalTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task ARemovedMembersConnectionIsClosedEvenIfTheMemberRemovedEventWasLostByPubSub()
    {
        var (room, ann, bob) = await RemovalOnlyATickFindsAsync();
        await using var _ = ann;
        await using var __ = bob;
        (await server.SnapshotAsync(room)).Members.Should().NotContain(m => m.MemberId == "bob");

        var later = await ann.Client.SetChoiceAsync(room, "pizza", 1, "after-removal");
        var leaked = false;
        try
        {
            await bob.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == later.Version, TimeSpan.FromSeconds(3));
            leaked = true;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            // not received: timed out, or the connection was closed first (what the fix does)
        }

        leaked.Should().BeFalse("a removed member's connection receives nothing more of the room (DESIGN §3 Removed)");

        // Told why before the close (else a client sees a close forbidding a reconnect, with no reason: "cannot reach
        // the server"). The tick knows the removal by its generation, not who made it: by is null.
        (await bob.Client.ShouldBeToldRemovedThenClosedAsync(room.Id, "bob", by: null, TimeSpan.FromSeconds(3)))
            .Should().Be(1, "nothing else told bob: the removal was made behind every replica's back");
    }

    [Fact]
    public async Task ACallInTheMomentBetweenTheTickFindingTheRemovalAndTheCloseIsForbiddenNotJoinFirst()
    {
        // The tick that reported version 3 is the one whose sweep found bob removed: it took his connection
        // out of the room before sending the position, and closes it about 0.4 s later.
        var (room, ann, bob) = await RemovalOnlyATickFindsAsync();
        await using var _ = ann;
        await using var __ = bob;
        (await bob.Client.RejectedCodeUnlessClosedFirstAsync("SetChoice", room.Id, "pizza", 1, null))
            .Should().BeOneOf(["forbidden", null], "the member was removed (DESIGN §3 Removed); the connection did not skip its Join");

        var snapshot = await server.SnapshotAsync(room);
        snapshot.Version.Should().Be(3, "the refused call changed nothing");
        snapshot.Choices.Should().BeEmpty();
        await bob.Client.Closed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    /// <summary>
    /// ann and bob joined, then bob removed with the event lost (published where no replica listens); returns
    /// once a tick has found it: ann's <c>Position</c> reports version 3.
    /// </summary>
    private async Task<(TestRoom Room, JoinedMember Ann, JoinedMember Bob)> RemovalOnlyATickFindsAsync()
    {
        var room = await server.CreateRoomAsync();
        var ann = await server.JoinAsync(room, "ann");
        var bob = await server.JoinAsync(room, "bob");
        await DeafRoomScripts.RunAsync(server.Redis, RedisScripts.Remove, room.Id, "bob", "api", "");
        await ann.Client.WaitForAsync("Position", p => p.GetProperty("version").GetInt64() >= 3, TimeSpan.FromSeconds(15));
        return (room, ann, bob);
    }
}

/// <summary>
/// The same lost removal, with ticks far apart: the removed member's client resumes (a <c>Join</c> on
/// its open connection) before any tick could close it. The refused Join takes it out of the room.
/// </summary>
public sealed class LostRemovalJoinTests(SlowTickRedisServer server) : IClassFixture<SlowTickRedisServer>
{
    [Fact]
    public async Task ARemovedMembersJoinOnItsOpenConnectionIsForbiddenAndTheConnectionIsClosed()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await using var bob = await server.JoinAsync(room, "bob");
        // remove.lua as it is, its event published where no replica listens: lost, with nothing to restore.
        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.Redis.Endpoint);
        var remove = await direct.GetDatabase().ScriptEvaluateAsync(RedisScripts.Remove.Text, RedisKeys.ForRoom(room.Id),
            ["PUBLISH rs:lost:events", ContractServer.HistoryLength, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), "bob", "api", ""]);
        ((string?)((RedisResult[])remove!)[0]).Should().Be("ok");

        (await bob.Client.RejectedCodeAsync("Join", room.Id, null)).Should().Be("forbidden");

        // The refused Join took the connection out of the room, and the server closes it 0.2 s later: a
        // call in that moment is the member's removal again, not "Join first" (or finds it closed).
        (await bob.Client.RejectedCodeUnlessClosedFirstAsync("SetChoice", room.Id, "pizza", 1, null))
            .Should().BeOneOf(["forbidden", null], "the member was removed (DESIGN §3 Removed)");

        var later = await ann.Client.SetChoiceAsync(room, "pizza", 1, "after-refused-join");
        later.Version.Should().Be(4, "the refused calls changed nothing (member, member, member_removed, then this)");
        await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == later.Version, TimeSpan.FromSeconds(10));

        var leaked = false;
        try
        {
            await bob.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == later.Version, TimeSpan.FromSeconds(2));
            leaked = true;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            // not received
        }

        leaked.Should().BeFalse("a connection whose Join was refused as forbidden is out of the room (DESIGN §3 Removed)");
        var closed = await Task.WhenAny(bob.Client.Closed, Task.Delay(TimeSpan.FromSeconds(3))) == bob.Client.Closed;
        closed.Should().BeTrue("the server closes a removed member's connections (DESIGN §3 Removed): the refused call closes it, no tick would find it out of the room");
    }
}

/// <summary>A Redis-backed server whose position ticks are a minute apart: nothing but a call closes a removed member's connection.</summary>
public sealed class SlowTickRedisServer : RedisContractServer
{
    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
        new Dictionary<string, string>(await base.StartBackingServicesAsync()) { ["RoomServer:PositionIntervalSeconds"] = "60" };
}
