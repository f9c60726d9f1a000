using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A room tick leaves out a position the members already had as an event (DESIGN.md §2), but not right after the
/// backplane is restored: what was published while it could not hear may be behind what it heard since, so then
/// every member is sent the room's position whatever reached it — at every tick until the room's next event.
/// </summary>
public sealed class PositionAfterRestoreTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task AfterTheBackplaneIsRestoredMembersAreSentThePositionTheirLastEventHadAlready()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await using var clock = await TickClock.StartAsync(server);
        var ack = await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == ack.Version);

        // One tick for a position read between the write and its event's delivery (rightly sent), then two counted.
        await clock.LetTicksPassAsync(1);
        var positionsBefore = ann.Client.Received("Position").Count;
        await clock.LetTicksPassAsync(2);
        ann.Client.Received("Position").Should().HaveCount(positionsBefore, "a tick does not repeat a position the member had as an event");
        while (ann.Client.TryRead("Position", out _))
        {
        }

        // Redis drops the replica's subscriber connection; the library reconnects it and the backplane re-subscribes.
        await server.Redis.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var position = await ann.Client.WaitForAsync("Position", p => p.GetProperty("version").GetInt64() == ack.Version, TimeSpan.FromSeconds(15));
        position.GetProperty("epoch").GetString().Should().Be(room.Epoch);

        // At every tick, not one: a restore tick that failed must not be the only one. Four clock ticks span three
        // intervals at least, so the room ticks at least twice; the every-sixth-tick repeat would send once at most.
        var afterRestore = ann.Client.Received("Position").Count;
        await clock.LetTicksPassAsync(4);
        ann.Client.Received("Position").Skip(afterRestore).Count(p => p.GetProperty("version").GetInt64() == ack.Version)
            .Should().BeGreaterThanOrEqualTo(2, "until the room's next event, every tick sends its position");
        (await server.SnapshotAsync(room)).Version.Should().Be(ack.Version, "nothing was written: the positions came from the restore, not from a lost event");
    }
}
