using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>The operator API's bad inputs get §5 problems (an in-process embedded server, no webhooks).</summary>
[Trait("Suite", "Orders")]
public sealed class OrdersApiTests(EmbeddedContractServer server) : IClassFixture<EmbeddedContractServer>
{
    [Theory]
    [InlineData("GET", "/api/rooms/r1/order")]
    [InlineData("GET", "/api/deadletters")]
    [InlineData("POST", "/api/deadletters/1-0/retry")]
    [InlineData("POST", "/api/deadletters/retry")]
    [InlineData("DELETE", "/api/deadletters/1-0")]
    public async Task EveryOperatorRouteWantsTheApiKey(string method, string path)
    {
        var response = await server.Anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await ShouldBeProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task AnUnknownRoomIsRoomNotFoundAndAMalformedIdInvalidArgument()
    {
        await ShouldBeProblemAsync(await server.Api.GetAsync("/api/rooms/NoSuchRoom123/order"), HttpStatusCode.NotFound, "room_not_found");
        await ShouldBeProblemAsync(await server.Api.GetAsync("/api/rooms/bad*id/order"), HttpStatusCode.BadRequest, "invalid_argument");
    }

    [Fact]
    public async Task ARoomWithoutTransitionsHasNoRecordsYet()
    {
        var room = await server.CreateRoomAsync();

        var order = await server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}/order");

        order.GetProperty("records").GetArrayLength().Should().Be(0);
    }

    [Theory]
    [InlineData("not-an-id")]
    [InlineData("99999999")]
    [InlineData("99999999999999999999-0")]
    public async Task RetryingAMalformedOrUnknownDeadLetterIsInvalidArgumentAndRetriesNothing(string id)
    {
        var response = await server.Api.PostAsync(new Uri($"/api/deadletters/{id}/retry", UriKind.Relative), null);

        await ShouldBeProblemAsync(response, HttpStatusCode.BadRequest, "invalid_argument");
        var all = await server.Api.PostAsync(new Uri("/api/deadletters/retry", UriKind.Relative), null);
        all.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await all.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("retried").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void TheOutboxKeysCarryTheRoomsHashTagAndTheGlobalOnesNone()
    {
        RedisKeys.ForStateChange("r1").Select(k => k.ToString()).TakeLast(2).Should().Equal("rs:{r1}:orders", "rs:{r1}:deliveries");
        RedisKeys.OrderRooms.ToString().Should().Be("rs:orders:rooms");
        RedisKeys.DeadLetters.ToString().Should().Be("rs:orders:deadletters");
        RedisKeys.Requeued("r1").ToString().Should().Be("rs:{r1}:requeued");
        RedisKeys.Discarded("r1").ToString().Should().Be("rs:{r1}:discarded");
    }

    private static async Task ShouldBeProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(code);
    }
}
