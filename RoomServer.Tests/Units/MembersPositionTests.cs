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
    public void NothingMayBeLeftOutBeforeAnEventWasDelivered()
    {
        var delivered = new MembersPosition();

        for (var tick = 0; tick < 10; tick++)
        {
            delivered.MaySkip(new RoomPosition("e1", 0)).Should().BeFalse("a room whose events never reached its members here gets every tick's position");
        }
    }

    [Fact]
    public void AnEventCoversItsPositionAndThoseBeforeItInItsEpochOnly()
    {
        MembersPosition After(string epoch, long version)
        {
            var delivered = new MembersPosition();
            delivered.Delivered(Event(epoch, version));
            return delivered;
        }

        After("e1", 5).MaySkip(new RoomPosition("e1", 5)).Should().BeTrue();
        After("e1", 5).MaySkip(new RoomPosition("e1", 4)).Should().BeTrue("a tick that read the room before the event arrived");
        After("e1", 5).MaySkip(new RoomPosition("e1", 6)).Should().BeFalse("an event this replica did not write to them: a lost one");
        After("e1", 5).MaySkip(new RoomPosition("e2", 5)).Should().BeFalse("another epoch (a failover) makes the members resync");
    }

    [Fact]
    public void ACoveredPositionIsLeftOutAtMostFiveTicksInARowAndAnEventStartsTheCountOver()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 5));
        var position = new RoomPosition("e1", 5);

        Skips(delivered, position, MembersPosition.SkippedTicksAtMost).Should().AllBeEquivalentTo(true);
        delivered.MaySkip(position).Should().BeFalse("the sixth tick sends it, for a client whose catch-up failed");
        Skips(delivered, position, MembersPosition.SkippedTicksAtMost).Should().AllBeEquivalentTo(true, "and the count starts over");

        delivered.Delivered(Event("e1", 6));
        Skips(delivered, new RoomPosition("e1", 6), MembersPosition.SkippedTicksAtMost).Should().AllBeEquivalentTo(true, "an event told them the position: a full run of skips again");
        delivered.MaySkip(new RoomPosition("e1", 6)).Should().BeFalse();
    }

    [Fact]
    public void AnOlderEventDoesNotStartTheCountOver()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 6));
        var position = new RoomPosition("e1", 6);
        Skips(delivered, position, MembersPosition.SkippedTicksAtMost - 1).Should().AllBeEquivalentTo(true);

        delivered.Delivered(Event("e1", 4));
        delivered.MaySkip(position).Should().BeTrue("the fifth in a row");
        delivered.MaySkip(position).Should().BeFalse("an event behind the room's position told the members nothing new, so the sixth tick sends it");
    }

    [Fact]
    public void ANewEpochStartsOverAndAnOlderEventNeverLowersThePosition()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 70));
        delivered.Delivered(Event("e2", 3));

        delivered.MaySkip(new RoomPosition("e1", 70)).Should().BeFalse("the epoch moved on");
        delivered.Delivered(Event("e2", 2));
        delivered.MaySkip(new RoomPosition("e2", 3)).Should().BeTrue();
    }

    [Fact]
    public void EmbeddedModesEventsAndChannelJsonCountAlike()
    {
        var delivered = new MembersPosition();
        delivered.Delivered("e1", 7);
        delivered.MaySkip(new RoomPosition("e1", 7)).Should().BeTrue();

        delivered.Delivered(Event("e1", 8));
        delivered.MaySkip(new RoomPosition("e1", 8)).Should().BeTrue("the same epoch, read from the channel's JSON");

        delivered.Delivered("e9", 1);
        delivered.MaySkip(new RoomPosition("e1", 8)).Should().BeFalse();
        delivered.MaySkip(new RoomPosition("e9", 1)).Should().BeTrue();
    }

    [Fact]
    public void AfterForgetEveryTickSendsUntilTheNextEvent()
    {
        var delivered = new MembersPosition();
        delivered.Delivered(Event("e1", 5));
        delivered.Forget();

        Skips(delivered, new RoomPosition("e1", 5), 8).Should().AllBeEquivalentTo(false, "after a restore nothing counts as delivered");
        delivered.Delivered(Event("e1", 6));
        delivered.MaySkip(new RoomPosition("e1", 6)).Should().BeTrue();
    }

    [Fact]
    public void AnEventWhosePositionCannotBeReadCoversNothing()
    {
        var delivered = new MembersPosition();
        delivered.Delivered("{\"roomId\":\"r\"}"u8);
        delivered.Delivered("{\"epoch\":\"e1\",\"version\":x}"u8);
        delivered.Delivered("{\"version\":4,\"epoch\":\"e1"u8); // the epoch's closing quote never comes

        delivered.MaySkip(new RoomPosition("e1", 0)).Should().BeFalse();
    }

    private static List<bool> Skips(MembersPosition delivered, RoomPosition position, int ticks) =>
        Enumerable.Range(0, ticks).Select(_ => delivered.MaySkip(position)).ToList();
}
