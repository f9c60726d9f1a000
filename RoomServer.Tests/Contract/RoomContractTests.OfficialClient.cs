using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// The official @microsoft/signalr client under Node with default options (negotiation, any
    /// transport) joins, chooses, and receives the event — while a .NET member sees the same event.
    /// </summary>
    [Fact]
    public async Task TheOfficialJavaScriptClientWithDefaultOptionsJoinsChoosesAndReceivesEvents()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var result = await NodeScript.RunAsync("signalr-client.mjs", new Dictionary<string, string>
        {
            ["BASE_URL"] = Server.BaseUrl.ToString().TrimEnd('/'),
            ["TOKEN"] = await Server.TokenAsync(room, "node"),
            ["ROOM_ID"] = room.Id,
            ["MENU_ID"] = "pasta",
            ["MODE"] = "default",
        }, TimeSpan.FromSeconds(40));

        result.ExitCode.Should().Be(0, result.ToString());
        var report = result.LastJsonLine!.Value;
        report.GetProperty("joinVersion").GetInt64().Should().Be(2);
        report.GetProperty("ackVersion").GetInt64().Should().Be(3);
        report.GetProperty("eventVersion").GetInt64().Should().Be(3);
        report.GetProperty("transport").GetString().Should().Be("WebSockets");
        report.GetProperty("unknownMenuError").GetString().Should().Contain("HubException: unknown_menu_item:");

        await ann.Client.NextEventShouldBeAsync(2);
        (await ann.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "node", MenuId = "pasta", Quantity = 2 });
    }
}
