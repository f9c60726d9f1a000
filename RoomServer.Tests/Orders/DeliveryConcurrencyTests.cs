using System.Globalization;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// How many deliveries a replica runs at once (DESIGN.md §8, <c>RoomServer__Webhooks__MaxConcurrentRequests</c>):
/// the limit is on requests in flight, not on rooms, so rooms waiting out a failing endpoint's backoff
/// leave every other room's deliveries free to go. Run in each storage mode through a subclass.
/// </summary>
public abstract class DeliveryConcurrencyTests
{
    private const string KitchenSecret = "kitchen-secret-fedcba9876543210";

    /// <summary>More rooms than a replica once delivered at a time (32), each stuck on the failing endpoint.</summary>
    private const int StuckRooms = 40;

    protected abstract bool Embedded { get; }

    [Fact]
    public async Task RoomsWaitingOutAFailingEndpointsBackoffHoldUpNoOtherRoomsDeliveries()
    {
        await using var kitchen = new WebhookReceiver(KitchenSecret) { Answers = _ => ReceiverAnswer.ServerError };
        await kitchen.StartAsync();
        await using var stage = await OrderHandoffStage.StartAsync(embedded: Embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,

            // The kitchen's retries go on far longer than the test: every room stays in backoff throughout.
            ["RoomServer__Webhooks__MaxAttempts"] = "30",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "60000",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "60000",
        });
        var replica = stage.Replicas[0];
        var rooms = new List<string>();
        for (var i = 0; i < StuckRooms; i++)
        {
            rooms.Add(await stage.CreateRoomAsync(replica));
        }

        foreach (var room in rooms)
        {
            await stage.SetStateAsync(replica, room, "locked");
        }

        // Billing gets every room's record while the kitchen has failed each of them and waits a minute to retry.
        var billed = new HashSet<string>(StringComparer.Ordinal);
        while (billed.Count < StuckRooms)
        {
            var next = await stage.Receiver.NextAsync(TimeSpan.FromSeconds(20));
            next.Answer.Should().Be(ReceiverAnswer.Ok);
            billed.Add(next.Json.GetProperty("roomId").GetString()!).Should().BeTrue("billing answered every first attempt: {0} came twice", next.OrderId);
        }

        billed.Should().BeEquivalentTo(rooms);
        // (A jittered first backoff may be short: a room may have retried the kitchen already.)
        await Poll.UntilAsync(() => KitchenRooms().Count >= StuckRooms, TimeSpan.FromSeconds(20), () => $"the kitchen's first attempts: {kitchen.Describe()}");
        KitchenRooms().Should().BeEquivalentTo(rooms, "each room tried the kitchen and is waiting to retry");
        kitchen.All.Should().OnlyContain(r => r.Answer == ReceiverAnswer.ServerError);
        var order = await stage.GetJsonAsync(replica, $"/api/rooms/{rooms[^1]}/order");
        OrderHandoffStage.Deliveries(order).Select(d => (d.GetProperty("endpoint").GetString(), d.GetProperty("status").GetString()))
            .Should().Equal((stage.Receiver.Url, "delivered"), (kitchen.Url, "pending"));

        List<string> KitchenRooms() => kitchen.All.Select(r => r.Json.GetProperty("roomId").GetString()!).Distinct().ToList();
    }

    [Fact]
    public async Task AReplicaHasAtMostMaxConcurrentRequestsInFlightAndDeliversEveryRecord()
    {
        const int limit = 3;
        const int roomCount = 12;
        await using var stage = await OrderHandoffStage.StartAsync(embedded: Embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__MaxConcurrentRequests"] = limit.ToString(CultureInfo.InvariantCulture),
        });
        stage.Receiver.AnswerDelay = TimeSpan.FromMilliseconds(500);
        var replica = stage.Replicas[0];
        var rooms = new List<string>();
        for (var i = 0; i < roomCount; i++)
        {
            rooms.Add(await stage.CreateRoomAsync(replica));
        }

        await Task.WhenAll(rooms.Select(room => stage.SetStateAsync(replica, room, "locked")));
        var delivered = new List<ReceivedWebhook>();
        while (delivered.Count < roomCount)
        {
            delivered.Add(await stage.Receiver.NextAsync(TimeSpan.FromSeconds(20)));
        }

        delivered.Select(r => r.Json.GetProperty("roomId").GetString()).Should().BeEquivalentTo(rooms, "every room's record, once");
        delivered.Should().OnlyContain(r => r.Answer == ReceiverAnswer.Ok);
        stage.Receiver.MostInFlight.Should().Be(limit, "twelve slow records were due at once, and the replica sends at most {0} at a time", limit);
    }
}

[Trait("Suite", "Orders")]
public sealed class EmbeddedDeliveryConcurrencyTests : DeliveryConcurrencyTests
{
    protected override bool Embedded => true;
}

[Trait("Suite", "Orders")]
public sealed class RedisDeliveryConcurrencyTests : DeliveryConcurrencyTests
{
    protected override bool Embedded => false;
}
