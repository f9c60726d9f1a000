using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>What a removed member's connection is told before the server closes it (DESIGN.md §3 <c>Removed</c>).</summary>
public static class RemovedNotices
{
    /// <summary>
    /// Awaits the connection's close (bounded), then asserts it was told <c>Removed</c> before it: <see cref="HubTestClient.Closed"/>
    /// completes only once what arrived before the close is recorded. The first notice names the room, the member and
    /// <paramref name="by"/> (present as null where the closing replica does not know who removed them); a repeat of it
    /// (the close tells again what the removal may have told already) names the same room and member. Returns how many.
    /// </summary>
    public static async Task<int> ShouldBeToldRemovedThenClosedAsync(this HubTestClient client, string roomId, string memberId, string? by, TimeSpan bound)
    {
        (await Task.WhenAny(client.Closed, Task.Delay(bound))).Should().BeSameAs(client.Closed, "the server closes a removed member's connection (DESIGN.md §3 Removed)");
        var notices = client.Received("Removed");
        notices.Should().NotBeEmpty("a removed member's connection is told Removed before the server closes it (DESIGN.md §3 Removed), not closed without a word");
        notices[0].TryGetProperty("by", out var told).Should().BeTrue("Removed always carries by");
        told.ValueKind.Should().Be(by is null ? JsonValueKind.Null : JsonValueKind.String);
        notices[0].Deserialize<MemberRemovedNotice>(ContractServer.Json).Should().Be(new MemberRemovedNotice(roomId, memberId, by));
        notices.Select(n => n.Deserialize<MemberRemovedNotice>(ContractServer.Json)!).Should()
            .OnlyContain(n => n.RoomId == roomId && n.MemberId == memberId, "every notice is about this member's removal from this room");
        return notices.Count;
    }
}
