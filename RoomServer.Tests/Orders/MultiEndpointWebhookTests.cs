using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Two webhook endpoints (DESIGN.md §8, <c>RoomServer__Webhooks__Endpoints__0__...</c> and <c>__1__...</c>): every
/// record goes to each, signed with that endpoint's own secret, and the operator view keeps one delivery status
/// per endpoint. The stage's receiver is endpoint 0 ("billing"); a second receiver ("kitchen") is endpoint 1.
/// Run in each storage mode through a subclass.
/// </summary>
public abstract class MultiEndpointWebhookTests
{
    private const string KitchenSecret = "kitchen-secret-fedcba9876543210";

    /// <summary>Failed attempts the kitchen answers (500) before it recovers.</summary>
    private const int KitchenFailures = 2;

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    protected abstract bool Embedded { get; }

    [Fact]
    public async Task EveryRecordReachesBothEndpointsSignedWithItsOwnSecretAndAFailingEndpointNeitherHoldsUpNorDuplicatesTheOther()
    {
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        var kitchenDown = true;
        kitchen.Answers = _ => Volatile.Read(ref kitchenDown) ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        await kitchen.StartAsync();
        await using var stage = await OrderHandoffStage.StartAsync(embedded: Embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,

            // Room for the kitchen's failures: it must not run out of attempts while the test looks at billing.
            ["RoomServer__Webhooks__MaxAttempts"] = "30",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "50",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "300",
        });
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        // The kitchen answers 500; billing gets the record at once and is settled while the kitchen still fails.
        var submitted = await stage.SetStateAsync(replica, roomId, "locked");
        var firstOrderId = $"{roomId}:{submitted}";
        var toBilling = await billing.NextAsync(Delivery);
        toBilling.OrderId.Should().Be(firstOrderId);
        var whileKitchenFails = await stage.WaitForOrderAsync(replica, roomId,
            o => StatusOf(o, 0, billing.Url).GetProperty("status").GetString() == "delivered"
                && StatusOf(o, 0, kitchen.Url).GetProperty("attempts").GetInt32() >= KitchenFailures,
            Delivery);
        StatusOf(whileKitchenFails, 0, billing.Url).GetProperty("attempts").GetInt32().Should().Be(1, "billing answered the first attempt");
        var failingStatus = StatusOf(whileKitchenFails, 0, kitchen.Url);
        failingStatus.GetProperty("status").GetString().Should().Be("pending", "the kitchen has answered nothing but 500 so far");
        failingStatus.GetProperty("lastError").GetString().Should().Contain("500");
        kitchen.All.Should().OnlyContain(r => r.Answer == ReceiverAnswer.ServerError && r.OrderId == firstOrderId);

        // The kitchen recovers: its retries deliver the same body, and billing is not sent it again.
        Volatile.Write(ref kitchenDown, false);
        var toKitchen = await kitchen.NextDeliveredAsync(Delivery);
        toKitchen.OrderId.Should().Be(firstOrderId);
        toKitchen.Body.Should().Be(toBilling.Body, "every endpoint is sent the same record");

        var reopened = await stage.SetStateAsync(replica, roomId, "open");
        var resubmitted = await stage.SetStateAsync(replica, roomId, "locked");
        var closed = await stage.SetStateAsync(replica, roomId, "closed");
        var expected = new[] { ("order.submitted", submitted), ("order.reopened", reopened), ("order.submitted", resubmitted), ("order.closed", closed) };

        var order = await stage.WaitForOrderAsync(replica, roomId,
            o => o.GetProperty("records").GetArrayLength() == 4 && OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"),
            Delivery);

        // Each endpoint got each record exactly once (answered 200), in version order, signed with its own secret only.
        foreach (var (receiver, otherSecret) in new[] { (billing, KitchenSecret), (kitchen, OrderHandoffStage.Secret) })
        {
            var delivered = receiver.All.Where(r => r.Answer == ReceiverAnswer.Ok).ToList();
            delivered.Select(r => (r.Type, r.Version)).Should().Equal(expected);
            delivered.Select(r => r.OrderId).Should().Equal(expected.Select(e => $"{roomId}:{e.Item2}"));
            receiver.All.Should().OnlyContain(r => r.SignatureValid, "each endpoint is signed with its own secret");
            receiver.All.Should().OnlyContain(
                r => !RoomShareWebhook.Verify(otherSecret, r.Body, r.Timestamp, r.Signature, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
                "no endpoint is signed with the other's secret");
        }

        billing.All.Should().HaveCount(4, "billing answered every first attempt: nothing was sent to it twice");
        var kitchenFirstAttempts = kitchen.All.Count(r => r.OrderId == firstOrderId);
        kitchenFirstAttempts.Should().BeGreaterThan(KitchenFailures);
        kitchen.All.Should().HaveCount(kitchenFirstAttempts + 3, "after recovering, the kitchen answered every first attempt");
        foreach (var (r, other) in billing.All.Zip(kitchen.All.Where(r => r.Answer == ReceiverAnswer.Ok)))
        {
            r.Body.Should().Be(other.Body);
        }

        // The operator view: per record, one status per endpoint, in the configured order, with its own attempts.
        var records = order.GetProperty("records").EnumerateArray().ToList();
        records.Select(r => (r.GetProperty("type").GetString()!, r.GetProperty("version").GetInt64())).Should().Equal(expected);
        for (var i = 0; i < records.Count; i++)
        {
            var deliveries = records[i].GetProperty("deliveries").EnumerateArray().ToList();
            deliveries.Select(d => d.GetProperty("endpoint").GetString()).Should().Equal(billing.Url, kitchen.Url);
            deliveries.Select(d => d.GetProperty("lastError").ValueKind).Should().AllBeEquivalentTo(JsonValueKind.Null, "both ended delivered");
            deliveries[0].GetProperty("attempts").GetInt32().Should().Be(1);
            deliveries[1].GetProperty("attempts").GetInt32().Should().Be(i == 0 ? kitchenFirstAttempts : 1, "the kitchen's retries count for the record it failed");
        }

        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
    }

    /// <summary>The delivery status of the <paramref name="index"/>-th record for one endpoint.</summary>
    private static JsonElement StatusOf(JsonElement order, int index, string endpoint) =>
        order.GetProperty("records").EnumerateArray().ElementAtOrDefault(index) is { ValueKind: JsonValueKind.Object } record
            ? record.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("endpoint").GetString() == endpoint)
            : JsonDocument.Parse("""{"status":"none","attempts":0}""").RootElement;
}

[Trait("Suite", "Orders")]
public sealed class EmbeddedMultiEndpointWebhookTests : MultiEndpointWebhookTests
{
    protected override bool Embedded => true;
}

[Trait("Suite", "Orders")]
public sealed class RedisMultiEndpointWebhookTests : MultiEndpointWebhookTests
{
    protected override bool Embedded => false;
}
