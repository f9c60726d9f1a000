using System.Text;
using RoomShare.RoomServer.Redis;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>The backplane's guard against a room event delivered twice (a failover's restored subscription).</summary>
public sealed class EventPositionFilterTests
{
    private static byte[] Event(string epoch, long version) =>
        Encoding.UTF8.GetBytes($"{{\"roomId\":\"r\",\"epoch\":\"{epoch}\",\"version\":{version},\"type\":\"refresh\",\"at\":\"t\"}}");

    [Fact]
    public void EachVersionOfAnEpochPassesOnceInOrder()
    {
        var filter = new EventPositionFilter();

        filter.IsNew(Event("e1", 1)).Should().BeTrue();
        filter.IsNew(Event("e1", 2)).Should().BeTrue();
        filter.IsNew(Event("e1", 2)).Should().BeFalse("the same event again");
        filter.IsNew(Event("e1", 1)).Should().BeFalse("an older event of the same epoch");
        filter.IsNew(Event("e1", 5)).Should().BeTrue("a gap is the client's to detect, not ours to hide");
    }

    [Fact]
    public void ANewEpochStartsOver()
    {
        var filter = new EventPositionFilter();
        filter.IsNew(Event("e1", 70)).Should().BeTrue();

        filter.IsNew(Event("e2", 66)).Should().BeTrue("a room with a new epoch (after a failover) counts again");
        filter.IsNew(Event("e2", 66)).Should().BeFalse();
        filter.IsNew(Event("e1", 71)).Should().BeTrue("an epoch change either way passes: the client resyncs");
    }

    [Fact]
    public void AMessageWithoutAReadablePositionIsNeverDropped()
    {
        var filter = new EventPositionFilter();

        filter.IsNew("{\"roomId\":\"r\"}"u8).Should().BeTrue();
        filter.IsNew("{\"roomId\":\"r\"}"u8).Should().BeTrue();
        filter.IsNew("{\"epoch\":\"e\",\"version\":x}"u8).Should().BeTrue();
    }
}
