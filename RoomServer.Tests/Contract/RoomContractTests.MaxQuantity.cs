using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// Every snapshot states the quantity cap the store enforces (DESIGN.md §3 <c>maxQuantity</c>), so a
    /// client's + stops where the server's does on a deployment whose cap is not the default. Read as raw
    /// JSON / MessagePack maps: the wire name is the contract, in both protocols and over HTTP.
    /// </summary>
    [Fact]
    public async Task EverySnapshotCarriesTheConfiguredMaxQuantityTheStoreEnforces()
    {
        ContractServer.MaxQuantity.Should().NotBe(new RoomServerOptions().MaxQuantity, "a hard-coded default must not pass");
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        await using var json = await Server.ConnectAsync(token);
        await using var bin = await HubTestClient.ConnectAsync(Server.BaseUrl, token, o => o.MessagePack = true);

        var viaJson = (await json.InvokeAsync("Join", room.Id, null)).GetProperty("snapshot");
        var viaMessagePack = (await bin.InvokeAsync("Join", room.Id, null)).GetProperty("snapshot");
        var viaApi = await Server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}");

        foreach (var (source, snapshot) in new[] { ("Join (JSON)", viaJson), ("Join (MessagePack)", viaMessagePack), ("GET /api/rooms/{id}", viaApi) })
        {
            snapshot.TryGetProperty("maxQuantity", out var max).Should().BeTrue($"{source}'s snapshot has maxQuantity");
            max.ValueKind.Should().Be(JsonValueKind.Number, source);
            max.GetInt32().Should().Be(ContractServer.MaxQuantity, source);
        }

        (await json.AdjustChoiceAsync(room, "pizza", 1000)).Quantity.Should().Be(ContractServer.MaxQuantity, "the stated cap is the one the store clamps to");
    }
}
