using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// An endpoint added to the configuration (<c>RoomServer__Webhooks__Endpoints__1__...</c>) after some records were settled
/// (DESIGN.md §8), end to end: a real replica on a real redis-server settles one room's record with billing alone and is
/// stopped while another room's record is still being retried; restarted with a kitchen endpoint as well, it sends the
/// unsettled record to both, and the operator view shows the settled one's kitchen delivery as <c>not_sent</c> — never
/// <c>pending</c>, which it would stay forever — and the kitchen never gets it.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class AddedEndpointReplicaTests
{
    private const string KitchenSecret = "kitchen-secret-0123456789fedcba";

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnEndpointAddedAfterARecordWasSettledIsShownNotSentAndOneStillPendingGoesThere()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var settled = await stage.CreateRoomAsync(replica);
        var unsettled = await stage.CreateRoomAsync(replica);

        var settledVersion = await stage.SetStateAsync(replica, settled, "locked");
        await stage.WaitForOrderAsync(replica, settled, o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("status").GetString() == "delivered"), Delivery);

        // Billing now refuses: the second room's record is being retried (pending) when the replica stops.
        billing.Answers = _ => ReceiverAnswer.Reject;
        var unsettledVersion = await stage.SetStateAsync(replica, unsettled, "locked");
        var unsettledOrder = $"{unsettled}:{unsettledVersion}";
        await Poll.UntilAsync(() => Task.FromResult(billing.All.Any(r => r.OrderId == unsettledOrder)), Delivery, () => $"billing refused the second record once; received: {billing.Describe()}");
        await replica.StopAsync();

        // The kitchen is added to the configuration; billing has recovered.
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        await kitchen.StartAsync();
        billing.Answers = _ => ReceiverAnswer.Ok;
        var webhooks = new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,
        };
        await using var reconfigured = await RoomServerProcess.StartAsync(stage.Settings(replica.ReplicaId, webhooks));

        // The record still pending goes to every endpoint configured now, the kitchen included (its claim is taken over).
        var order = await stage.WaitForOrderAsync(reconfigured, unsettled, o => Statuses(o).Values.All(s => s == "delivered"), Delivery);
        Statuses(order).Should().Equal(new Dictionary<string, string> { [billing.Url] = "delivered", [kitchen.Url] = "delivered" });
        kitchen.All.Should().Contain(r => r.OrderId == unsettledOrder);

        // The settled record was never meant for the kitchen: not_sent, and never sent.
        var settledOrder = await stage.GetJsonAsync(reconfigured, $"/api/rooms/{settled}/order");
        Statuses(settledOrder).Should().Equal(new Dictionary<string, string> { [billing.Url] = "delivered", [kitchen.Url] = "not_sent" });
        var notSent = OrderHandoffStage.Deliveries(settledOrder).Single(d => d.GetProperty("endpoint").GetString() == kitchen.Url);
        notSent.GetProperty("attempts").GetInt32().Should().Be(0);
        notSent.GetProperty("lastError").ValueKind.Should().Be(JsonValueKind.Null);
        notSent.GetProperty("nextAttemptAt").ValueKind.Should().Be(JsonValueKind.Null);
        kitchen.All.Should().NotContain(r => r.OrderId == $"{settled}:{settledVersion}", "a settled record is not sent to an endpoint configured after it");

        // The room's next record goes to both.
        var reopened = await stage.SetStateAsync(reconfigured, settled, "open");
        await Poll.UntilAsync(() => Task.FromResult(kitchen.All.Any(r => r.OrderId == $"{settled}:{reopened}")), Delivery, () => $"the kitchen gets the next record; received: {kitchen.Describe()}");
    }

    /// <summary>The first record's status per endpoint (each room here has one record when it is read).</summary>
    private static Dictionary<string, string> Statuses(JsonElement order) =>
        order.GetProperty("records").EnumerateArray().First().GetProperty("deliveries").EnumerateArray()
            .ToDictionary(d => d.GetProperty("endpoint").GetString()!, d => d.GetProperty("status").GetString()!);
}
