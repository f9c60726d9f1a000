using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>sweep.lua's reply: the room's position, then the presence fields of removed members' connections.</summary>
public sealed class SweepReplyTests
{
    private static readonly LocalConnection Ann = new(new ConnectionKey("r1", "c-ann"), "ann", 1);
    private static readonly LocalConnection Bob = new(new ConnectionKey("r1", "c-bob"), "bob", 1);
    private static readonly LocalConnection BobOnAnotherReplica = new(new ConnectionKey("r2", "c-bob"), "bob", 1);

    private static ScriptReply Reply(params string[] items) =>
        new([.. items.Select(i => RedisResult.Create((RedisValue)i))]);

    [Fact]
    public void ATickThatRemovedNobodyReadsThePositionAndNoConnection()
    {
        var outcome = SweepReply.Read(Reply("ok", "e1", "42"), [Ann, Bob]);

        outcome.Position.Should().Be(new RoomPosition("e1", 42));
        outcome.Removed.Should().BeEmpty();
    }

    [Fact]
    public void ATickThatRemovedSomeoneNamesExactlyTheirConnectionsHere()
    {
        var outcome = SweepReply.Read(Reply("ok", "e1", "43", "c:r1:c-bob", "c:r9:c-gone"), [Ann, Bob, BobOnAnotherReplica]);

        outcome.Position.Should().Be(new RoomPosition("e1", 43));
        outcome.Removed.Should().Equal(Bob);
    }
}
