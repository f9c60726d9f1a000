extern alias loadtool;

using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.SignalR.Protocol;
using loadtool::RoomShare.LoadTest.Hub;
using loadtool::RoomShare.LoadTest.Population;
using loadtool::RoomShare.LoadTest.Scenarios;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool writes quantities the servers take: the cap comes from the snapshot each member's
/// replica answered <c>Join</c> with (<c>maxQuantity</c>, DESIGN.md §3), not from RoomServer's default, so
/// a cluster run with a smaller <c>RoomServer__MaxQuantity</c> is not counted as failed writes.
/// </summary>
public sealed class LoadToolWriteScheduleTests
{
    private static Member NewMember(string roomId, int room, int index) =>
        new(roomId, room, index, "lt" + index, "token", new DeliveryTracker());

    private static JoinResultWire ParseJoinResult(string resultJson)
    {
        var frame = "{\"type\":3,\"invocationId\":\"" + InvocationIds.Join + "\",\"result\":" + resultJson + "}\u001e";
        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(frame));
        LeanHubWire.Json.Protocol.TryParseMessage(ref input, LeanHubBinder.Instance, out var message).Should().BeTrue();
        return (JoinResultWire)((CompletionMessage)message!).Result!;
    }

    [Fact]
    public void QuantitiesStayWithinTheCapAndEachWriteChangesTheQuantity()
    {
        Member[][] seats = [[NewMember("r0", 0, 0), NewMember("r0", 0, 1)], [NewMember("r1", 1, 0), NewMember("r1", 1, 1)]];
        var schedule = new WriteSchedule(seats, ["m0", "m1"], maxQuantity: 3);

        var last = new Dictionary<(string, string, string), int>();
        for (var i = 0; i < 64; i++)
        {
            var (writer, menuId, quantity) = schedule.Next();
            quantity.Should().BeInRange(1, 3);
            var slot = (writer.RoomId, writer.MemberId, menuId);
            if (last.TryGetValue(slot, out var before))
            {
                quantity.Should().NotBe(before, "a write that changes nothing sends no event");
            }

            last[slot] = quantity;
        }

        last.Should().HaveCount(8, "every member wrote every item");
    }

    [Fact]
    public void ACapBelowTwoIsRefused()
    {
        var make = () => new WriteSchedule([[NewMember("r0", 0, 0)]], ["m0"], maxQuantity: 1);
        make.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void AMemberKeepsTheCapItsReplicasSnapshotStated()
    {
        var member = NewMember("r0", 0, 0);
        member.OnJoined(ParseJoinResult(
            "{\"position\":{\"epoch\":\"e1\",\"version\":4},\"snapshot\":{\"roomId\":\"r0\",\"epoch\":\"e1\",\"version\":4,\"maxQuantity\":20,\"menu\":[]},\"missed\":null,\"replica\":\"r1\"}"));
        member.MaxQuantity.Should().Be(20);

        // A resume answered with missed events carries no snapshot: the cap learnt before stays.
        member.Reset();
        member.OnJoined(ParseJoinResult("{\"position\":{\"epoch\":\"e1\",\"version\":6},\"snapshot\":null,\"missed\":[],\"replica\":\"r2\"}"));
        member.MaxQuantity.Should().Be(20);
        member.Replica.Should().Be("r2");

        // An older replica's snapshot has no maxQuantity.
        var older = NewMember("r0", 0, 1);
        older.OnJoined(ParseJoinResult("{\"position\":{\"epoch\":\"e1\",\"version\":4},\"snapshot\":{\"roomId\":\"r0\"},\"missed\":null,\"replica\":\"r1\"}"));
        older.MaxQuantity.Should().BeNull();
    }
}
