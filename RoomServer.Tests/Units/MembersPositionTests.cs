using System.Text;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>What a room tick may leave out: the positions whose event this replica already wrote to the room's members.</summary>
public sealed class MembersPositionTests
{
    private static byte[] Event(string epoch, long version) =>
        Encoding.UTF8.GetBytes($"{{\"roomId\":\"r\",\"epoch\":\"{epoch}\",\"version\":{version},\"type\":\"choice\",\"at\":\"t\"}}");

    [Fact]
    public void NothingIsCoveredBeforeAnEventWasDelivered()
    {
        new MembersPosition().Covers(new RoomPosition("e1", 0)).Should().BeFalse("a room whose events never reached its members here gets every tick's position");
    }

    [Fact]
    public void AnEventCoversItsPositionAndThoseBeforeItInItsEpochOnly()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 5));

        delivered.Covers(new RoomPosition("e1", 5)).Should().BeTrue();
        delivered.Covers(new RoomPosition("e1", 4)).Should().BeTrue("a tick that read the room before the event arrived");
        delivered.Covers(new RoomPosition("e1", 6)).Should().BeFalse("an event this replica did not write to them: a lost one");
        delivered.Covers(new RoomPosition("e2", 5)).Should().BeFalse("another epoch (a failover) makes the members resync");
    }

    [Fact]
    public void ANewEpochStartsOverAndAnOlderEventNeverLowersThePosition()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 70));
        delivered.Delivered(Event("e2", 3));

        delivered.Covers(new RoomPosition("e2", 3)).Should().BeTrue();
        delivered.Covers(new RoomPosition("e1", 70)).Should().BeFalse("the epoch moved on");

        delivered.Delivered(Event("e2", 2));
        delivered.Covers(new RoomPosition("e2", 3)).Should().BeTrue();
    }

    [Fact]
    public void EmbeddedModesEventsAndChannelJsonCountAlike()
    {
        var delivered = new MembersPosition();
        delivered.Delivered("e1", 7);
        delivered.Covers(new RoomPosition("e1", 7)).Should().BeTrue();

        delivered.Delivered(Event("e1", 8));
        delivered.Covers(new RoomPosition("e1", 8)).Should().BeTrue("the same epoch, read from the channel's JSON");

        delivered.Delivered("e9", 1);
        delivered.Covers(new RoomPosition("e1", 8)).Should().BeFalse();
        delivered.Covers(new RoomPosition("e9", 1)).Should().BeTrue();
    }

    [Fact]
    public void AnEventWhosePositionCannotBeReadCoversNothing()
    {
        var delivered = new MembersPosition();
        delivered.Delivered("{\"roomId\":\"r\"}"u8);
        delivered.Delivered("{\"epoch\":\"e1\",\"version\":x}"u8);
        delivered.Delivered("{\"epoch\":\"e1,\"version\":4}"u8.ToArray().AsSpan(0, 12));

        delivered.Covers(new RoomPosition("e1", 0)).Should().BeFalse();
    }
}
