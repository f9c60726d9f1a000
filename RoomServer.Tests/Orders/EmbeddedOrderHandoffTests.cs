namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>Embedded mode hands orders off with the same semantics, from memory (DESIGN.md §8).</summary>
[Trait("Suite", "Orders")]
public sealed class EmbeddedOrderHandoffTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task LockingReopeningAndLockingAgainDeliversEachRecordInOrderAndTheStatusSaysDelivered()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true);
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        var first = await stage.SetStateAsync(replica, roomId, "locked");
        var received = await stage.Receiver.NextAsync(Delivery);
        received.SignatureValid.Should().BeTrue();
        received.OrderId.Should().Be($"{roomId}:{first}");
        received.Json.GetProperty("totalMinor").GetInt64().Should().Be(3400);
        received.Json.GetProperty("totals").EnumerateArray().Select(t => t.GetProperty("menuId").GetString()).Should().Equal("pizza", "cola");

        var reopened = await stage.SetStateAsync(replica, roomId, "open");
        var second = await stage.SetStateAsync(replica, roomId, "locked");
        var next = new[] { await stage.Receiver.NextAsync(Delivery), await stage.Receiver.NextAsync(Delivery) };
        next.Select(r => (r.Type, r.Version)).Should().Equal(("order.reopened", reopened), ("order.submitted", second));

        var order = await stage.WaitForOrderAsync(replica, roomId,
            o => OrderHandoffStage.Deliveries(o).Count() == 3 && OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"), Delivery);
        order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("type").GetString())
            .Should().Equal("order.submitted", "order.reopened", "order.submitted");
    }

    [Fact]
    public async Task ARedirectIsNotFollowedAndADeadLetterRetriedThroughTheApiIsDeliveredWithItsBodyUnchanged()
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: true, webhooks: new Dictionary<string, string> { ["RoomServer__Webhooks__MaxAttempts"] = "2" });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var broken = true;
        stage.Receiver.Answers = n => (n, Volatile.Read(ref broken)) switch
        {
            (0, _) => ReceiverAnswer.Redirect,
            (_, true) => ReceiverAnswer.ServerError,
            _ => ReceiverAnswer.Ok,
        };

        await stage.SetStateAsync(replica, roomId, "locked");
        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "dead", Delivery);
        OrderHandoffStage.Deliveries(order).Single().GetProperty("lastError").GetString().Should().Contain("500");
        stage.Receiver.All.Select(r => r.Answer).Should().Equal(ReceiverAnswer.Redirect, ReceiverAnswer.ServerError);
        stage.Receiver.RedirectsFollowed.Should().Be(0, "a 3xx is a failed attempt, not something to follow (2xx only is delivered)");
        var dead = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;

        Volatile.Write(ref broken, false);
        using var api = stage.Api(replica);
        (await api.PostAsync(new Uri($"/api/deadletters/{dead.GetProperty("id").GetString()}/retry", UriKind.Relative), null)).EnsureSuccessStatusCode();
        var delivered = await stage.Receiver.NextDeliveredAsync(Delivery);
        delivered.Body.Should().Be(stage.Receiver.All[0].Body);
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
    }
}
