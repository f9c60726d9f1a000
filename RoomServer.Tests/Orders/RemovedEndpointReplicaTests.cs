using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// An endpoint removed from the configuration (<c>RoomServer__Webhooks__Endpoints__1__...</c>) with dead letters
/// left (DESIGN.md §8), end to end: a real replica on a real redis-server dead-letters records for two endpoints,
/// is restarted without the second, and its retries refuse that endpoint's letters (they stay listed, and retry-all
/// says it passed them over) while the first endpoint's are retried and delivered; the operator then deletes them.
/// And a record still pending for the endpoint when it is removed is dead-lettered for it by the replica that takes it over
/// (never <c>pending</c> for good), and delivered there by that letter's retry once the endpoint is configured again.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RemovedEndpointReplicaTests
{
    private const string KitchenSecret = "kitchen-secret-fedcba9876543210";

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AfterAnEndpointIsRemovedItsDeadLettersAreRefusedAndKeptAndTheOthersAreRetried()
    {
        // The kitchen never listens: every attempt to it is refused, and one attempt is all there is.
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        var webhooks = new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,
            ["RoomServer__Webhooks__MaxAttempts"] = "1",
        };
        await using var stage = await OrderHandoffStage.StartAsync(webhooks: webhooks);
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var delivered = await stage.CreateRoomAsync(replica);
        var rejected = await stage.CreateRoomAsync(replica);

        // Billing takes the first room's record and rejects the second's: three dead letters, two of them the kitchen's.
        billing.Answers = n => n == 0 ? ReceiverAnswer.Ok : ReceiverAnswer.Reject;
        await stage.SetStateAsync(replica, delivered, "locked");
        await Poll.UntilAsync(() => Task.FromResult(billing.All.Count == 1), Delivery, "billing has the first room's record");
        var rejectedVersion = await stage.SetStateAsync(replica, rejected, "locked");
        var letters = await Poll.ForAsync(() => LettersAsync(stage, replica), l => l.Count == 3, Delivery, l => $"three dead letters, {l.Count} so far");
        var kitchenLetters = letters.Where(l => l.Endpoint == kitchen.Url).ToList();
        kitchenLetters.Should().HaveCount(2);
        var billingLetter = letters.Single(l => l.Endpoint == billing.Url);

        // The kitchen is removed from the configuration; billing has recovered.
        await replica.StopAsync();
        var settings = stage.Settings(replica.ReplicaId, webhooks);
        settings.Remove("RoomServer__Webhooks__Endpoints__1__Url");
        settings.Remove("RoomServer__Webhooks__Endpoints__1__Secret");
        await using var reconfigured = await RoomServerProcess.StartAsync(settings);
        billing.Answers = _ => ReceiverAnswer.Ok;
        using var api = stage.Api(reconfigured);

        using (var one = await api.PostAsync(new Uri($"/api/deadletters/{kitchenLetters[0].Id}/retry", UriKind.Relative), null))
        {
            one.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var problem = await one.Content.ReadFromJsonAsync<JsonElement>();
            problem.GetProperty("code").GetString().Should().Be("invalid_argument");
            problem.GetProperty("detail").GetString().Should().Contain("no longer configured");
        }

        var (retried, more, _, skipped) = await DeadLetterApi.RetryAllAsync(api);
        retried.Should().Equal(billingLetter.Id);
        more.Should().BeFalse();
        skipped.Should().Be(2, "the kitchen's two letters were passed over");
        await Poll.UntilAsync(
            () => billing.All.Any(r => r.OrderId == $"{rejected}:{rejectedVersion}" && r.Answer == ReceiverAnswer.Ok),
            Delivery,
            () => $"billing is sent the retried letter; received: {billing.Describe()}");

        var (again, moreAgain, _, skippedAgain) = await DeadLetterApi.RetryAllAsync(api);
        again.Should().BeEmpty();
        moreAgain.Should().BeFalse("an operator calling retry-all until more is false is done");
        skippedAgain.Should().Be(2);
        (await LettersAsync(stage, reconfigured)).Should().Equal(kitchenLetters, "the removed endpoint's letters stay, listed, unchanged");

        // The kitchen is gone for good: the operator deletes its letters, and nothing is left to pass over.
        foreach (var letter in kitchenLetters)
        {
            using var deleted = await api.DeleteAsync(new Uri($"/api/deadletters/{letter.Id}", UriKind.Relative));
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());
        }

        (await LettersAsync(stage, reconfigured)).Should().BeEmpty();
        var (none, moreAtAll, _, skippedAtAll) = await DeadLetterApi.RetryAllAsync(api);
        (none.Count, moreAtAll, skippedAtAll).Should().Be((0, false, 0));
    }

    [Fact]
    public async Task ARecordStillPendingForAnEndpointWhenItIsRemovedIsDeadLetteredForItAndRetriedOnceItIsBack()
    {
        // The kitchen asks to be tried again in 30 s: the record is still pending there when the replica restarts without it.
        await using var kitchen = new WebhookReceiver(KitchenSecret) { RetryAfter = TimeSpan.FromSeconds(30), Answers = _ => ReceiverAnswer.RetryLater };
        await kitchen.StartAsync();
        var webhooks = new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "30000", // the receiver's Retry-After is kept to, up to this
        };
        await using var stage = await OrderHandoffStage.StartAsync(webhooks: webhooks);
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomAsync(replica);
        var orderId = $"{roomId}:{await stage.SetStateAsync(replica, roomId, "locked")}";
        await stage.WaitForOrderAsync(replica, roomId, o => Status(o, billing.Url) == "delivered" && Status(o, kitchen.Url) == "pending" && DeliveryTo(o, kitchen.Url).GetProperty("attempts").GetInt32() >= 1, Delivery);

        // The kitchen is removed from the configuration: the restarted replica takes the record over once its claim lapses.
        await replica.StopAsync();
        var settings = stage.Settings(replica.ReplicaId, webhooks);
        settings.Remove("RoomServer__Webhooks__Endpoints__1__Url");
        settings.Remove("RoomServer__Webhooks__Endpoints__1__Secret");
        await using (var reconfigured = await RoomServerProcess.StartAsync(settings))
        {
            await Poll.UntilAsync(async () => await stage.HolderAsync(roomId) is null, Delivery, "the record is taken over and settled");

            var order = await stage.GetJsonAsync(reconfigured, $"/api/rooms/{roomId}/order");
            var removed = DeliveryTo(order, kitchen.Url);
            removed.GetProperty("status").GetString().Should().Be("dead", $"a settled record is not pending for good anywhere: {removed}");
            removed.GetProperty("nextAttemptAt").ValueKind.Should().Be(JsonValueKind.Null);
            removed.GetProperty("lastError").GetString().Should().Contain("no longer configured");
            (await LettersAsync(stage, reconfigured)).Should().ContainSingle(l => l.OrderId == orderId && l.Endpoint == kitchen.Url, "the letter waits for the kitchen to come back");
            await reconfigured.StopAsync();
        }

        // The kitchen is configured again and answers: its letter's retry delivers the record there.
        kitchen.Answers = _ => ReceiverAnswer.Ok;
        await using var restored = await RoomServerProcess.StartAsync(stage.Settings(replica.ReplicaId, webhooks));
        var letter = (await LettersAsync(stage, restored)).Single(l => l.Endpoint == kitchen.Url);
        using var api = stage.Api(restored);
        using (var retry = await api.PostAsync(new Uri($"/api/deadletters/{letter.Id}/retry", UriKind.Relative), null))
        {
            retry.StatusCode.Should().Be(HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
        }

        await Poll.UntilAsync(
            () => Task.FromResult(kitchen.All.Any(r => r.OrderId == orderId && r.Answer == ReceiverAnswer.Ok)), Delivery, () => $"the kitchen gets the record; received: {kitchen.Describe()}");
    }

    /// <summary>The endpoint's delivery of the room's one record, in the operator view.</summary>
    private static JsonElement DeliveryTo(JsonElement order, string endpoint) =>
        OrderHandoffStage.Deliveries(order).Single(d => d.GetProperty("endpoint").GetString() == endpoint);

    private static string? Status(JsonElement order, string endpoint) =>
        OrderHandoffStage.Deliveries(order).Where(d => d.GetProperty("endpoint").GetString() == endpoint).Select(d => d.GetProperty("status").GetString()).FirstOrDefault();

    private static async Task<List<Letter>> LettersAsync(OrderHandoffStage stage, RoomServerProcess replica) =>
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray()
            .Select(i => new Letter(i.GetProperty("id").GetString()!, i.GetProperty("orderId").GetString()!, i.GetProperty("endpoint").GetString()!))
            .ToList();

    private sealed record Letter(string Id, string OrderId, string Endpoint);
}
