using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A room's totals are summed from its choices in menu order; the largest room the settings allow must
/// fit <c>totalMinor</c>, and settings whose largest room would not are refused at start-up.
/// </summary>
public sealed class SnapshotTotalsTests
{
    [Fact]
    public void TotalsFollowTheMenuSumEveryMembersChoiceAndLeaveOutUnchosenItems()
    {
        var menu = new[] { new MenuItem("soup", "Soup", 450), new MenuItem("tea", "Tea", 200), new MenuItem("cake", "Cake", 375) };
        var choices = new[] { ("m2", "cake", 1), ("m1", "soup", 2), ("m2", "soup", 3), ("m1", "gone", 4), ("m3", "tea", 0) };

        var snapshot = Build(menu, ["m1", "m2", "m3"], choices);

        snapshot.Totals.Should().Equal(new SnapshotTotal("soup", 5, 2_250), new SnapshotTotal("cake", 1, 375));
        snapshot.TotalMinor.Should().Be(2_625);
        snapshot.Choices.Select(c => (c.MemberId, c.MenuId)).Should().Equal(("m1", "soup"), ("m2", "soup"), ("m2", "cake"));
    }

    [Fact]
    public void TheLargestRoomTheDefaultsAllowIsTotalledExactly()
    {
        var defaults = new RoomServerOptions();
        var menu = Enumerable.Range(0, defaults.Limits.MaxMenuItems).Select(i => new MenuItem($"i{i}", $"Item {i}", MenuItem.MaxPriceMinor)).ToList();
        var members = Enumerable.Range(0, defaults.Limits.MaxMembersPerRoom).Select(m => $"m{m}").ToList();
        var choices = members.SelectMany(m => menu.Select(item => (m, item.Id, defaults.MaxQuantity)));

        var snapshot = Build(menu, members, choices);

        var perItem = (long)defaults.MaxQuantity * defaults.Limits.MaxMembersPerRoom;
        snapshot.Totals.Should().HaveCount(menu.Count).And.OnlyContain(t => t.Quantity == perItem && t.AmountMinor == perItem * MenuItem.MaxPriceMinor);
        snapshot.TotalMinor.Should().Be(perItem * MenuItem.MaxPriceMinor * menu.Count);
    }

    [Theory]
    [InlineData(922, true)] // 922 × 200 × 500 × 1e11 = 9.22e18, just under long.MaxValue
    [InlineData(923, false)]
    [InlineData(10_000, false)] // MaxQuantity's own range allows it; with the default menu and room it cannot be totalled
    public void SettingsWhoseLargestRoomCouldNotBeTotalledRefuseToStart(int maxQuantity, bool accepted)
    {
        var options = new RoomServerOptions { ApiKeys = ["0123456789abcdef"], Jwt = { SigningKey = new string('k', 32) }, ReplicaId = "r1", MaxQuantity = maxQuantity };

        var result = new RoomServerOptionsValidator().Validate(null, options);

        result.Succeeded.Should().Be(accepted);
        if (!accepted)
        {
            result.FailureMessage.Should().Contain("RoomServer:MaxQuantity × RoomServer:Limits:MaxMenuItems × RoomServer:Limits:MaxMembersPerRoom");
        }
    }

    private static RoomSnapshot Build(IReadOnlyList<MenuItem> menu, IReadOnlyList<string> members, IEnumerable<(string, string, int)> choices) =>
        SnapshotAssembler.Build(
            "r1",
            "Room",
            new RoomPosition("e1", 1),
            RoomStates.Open,
            menu,
            members.Select(m => (m, m.ToUpperInvariant())),
            new HashSet<string>(),
            choices,
            maxQuantity: 99,
            presenceSeq: 0);
}
