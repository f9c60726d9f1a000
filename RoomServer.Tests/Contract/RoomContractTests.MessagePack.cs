using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// The MessagePack hub protocol (the official package) is offered beside JSON with the same
    /// contract: a MessagePack member and a JSON member share a room, each sees the other's change as
    /// the same camelCase event, results and positions carry the same fields, and bad arguments get
    /// the same §5 codes.
    /// </summary>
    [Fact]
    public async Task AMessagePackMemberAndAJsonMemberShareOneContract()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bin = await HubTestClient.ConnectAsync(Server.BaseUrl, await Server.TokenAsync(room, "bin"), o => o.MessagePack = true);

        var joined = await bin.InvokeAsync<JoinResult>("Join", room.Id, null);
        joined.Position.Should().BeEquivalentTo(new RoomPosition(room.Epoch, 2));
        joined.Snapshot!.Menu.Should().BeEquivalentTo(ContractServer.Menu);
        await ann.Client.NextEventShouldBeAsync(2);
        (await bin.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Member, MemberId = "bin" });

        var ack = await bin.SetChoiceAsync(room, "pasta", 2, "bin-1");
        ack.Should().BeEquivalentTo(new { Version = 3L, Quantity = 2 });
        (await ann.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "bin", MenuId = "pasta", Quantity = 2, OpId = "bin-1" });
        (await bin.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "bin", MenuId = "pasta", Quantity = 2 });

        await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.NextEventShouldBeAsync(4);
        var fromJson = await bin.NextEventShouldBeAsync(4);
        fromJson.Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "ann", MenuId = "pizza", Quantity = 1 });
        fromJson.At.Should().NotBe(default);

        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", ContractServer.MaxQuantity + 1, null)).Should().Be(RoomErrorCodes.InvalidQuantity);
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", "two", null)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", 2.0, null)).Should().Be(RoomErrorCodes.InvalidQuantity, "a float, as JSON's 2.0 is");
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "sushi", 1, null)).Should().Be(RoomErrorCodes.UnknownMenuItem);
        (await bin.RejectedCodeAsync("Join", new Dictionary<string, object> { ["nested"] = "room" }, null)).Should().Be(RoomErrorCodes.InvalidArgument);

        // Binary is no shape of the contract: not read as null, which is a valid opId ("none": a retry would apply twice).
        (await bin.RejectedCodeAsync("AdjustChoice", room.Id, "pasta", 1, new byte[] { 0x6f, 0x70 })).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.RejectedCodeAsync("Join", room.Id, new byte[] { 1 })).Should().Be(RoomErrorCodes.InvalidArgument);

        var position = await bin.WaitForAsync("Position", p => p.GetProperty("version").GetInt64() == 4, TimeSpan.FromSeconds(10));
        position.GetProperty("epoch").GetString().Should().Be(room.Epoch);
        await AssertNothingChangedAsync(room, ann, 4);
    }
}
