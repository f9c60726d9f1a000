using System.Collections.Concurrent;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Version order across endpoints (DESIGN.md §8: "an endpoint that fails or hangs never delays another endpoint's delivery of
/// a record (a room's next record still waits until every endpoint has had the one before: version order)"). Two endpoints:
/// the stage's receiver ("billing", endpoint 0) answers 200; a second ("kitchen", endpoint 1) answers 500 to record N. The
/// room's owner goes on (open, then locked again) while the kitchen still fails: billing is sent neither N+1 nor N+2 until
/// the kitchen has had N, and then both, in order. Embedded and Redis modes alike.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class VersionOrderAcrossEndpointsTests
{
    private const string KitchenSecret = "kitchen-secret-fedcba9876543210";

    /// <summary>Kitchen attempts at record N after the later transitions, while billing is watched for N+1.</summary>
    private const int AttemptsWatched = 6;

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARoomsNextRecordWaitsUntilEveryEndpointHasHadTheOneBefore(bool embedded)
    {
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        var kitchenDown = true;
        var kitchenHadIt = false;
        kitchen.Answers = _ =>
        {
            if (Volatile.Read(ref kitchenDown))
            {
                return ReceiverAnswer.ServerError;
            }

            Volatile.Write(ref kitchenHadIt, true); // before the answer leaves: the server cannot know of it sooner
            return ReceiverAnswer.Ok;
        };
        await kitchen.StartAsync();
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,

            // The most attempts there are: record N must not be dead-lettered for the kitchen while the test holds it there.
            ["RoomServer__Webhooks__MaxAttempts"] = "100",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "100",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "400",
        });
        var billing = stage.Receiver;

        // Whether the kitchen had record N when billing was sent each of its requests (in the order they came).
        var billingSentAfterKitchenHadIt = new ConcurrentQueue<bool>();
        billing.Answers = _ =>
        {
            billingSentAfterKitchenHadIt.Enqueue(Volatile.Read(ref kitchenHadIt));
            return ReceiverAnswer.Ok;
        };
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        var submitted = await stage.SetStateAsync(replica, roomId, "locked");
        (await billing.NextAsync(Delivery)).Version.Should().Be(submitted);
        await stage.WaitForOrderAsync(replica, roomId,
            o => StatusOf(o, submitted, billing.Url).GetProperty("status").GetString() == "delivered"
                && StatusOf(o, submitted, kitchen.Url).GetProperty("attempts").GetInt32() >= 1,
            Delivery);

        var reopened = await stage.SetStateAsync(replica, roomId, "open");
        var resubmitted = await stage.SetStateAsync(replica, roomId, "locked");
        var kitchenAttemptsBefore = kitchen.All.Count;
        await Poll.UntilAsync(() => kitchen.All.Count >= kitchenAttemptsBefore + AttemptsWatched, Delivery,
            () => $"{AttemptsWatched} more kitchen attempts at record {submitted}; kitchen: {kitchen.Describe()}");

        billing.All.Select(r => r.Version).Should().Equal([submitted],
            $"billing has record {submitted}, but the kitchen does not yet: {reopened} waits ({AttemptsWatched} kitchen attempts later); billing: {billing.Describe()}");
        kitchen.All.Should().OnlyContain(r => r.Version == submitted && r.Answer == ReceiverAnswer.ServerError, "the kitchen is still failing record N alone");
        var held = await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order");
        foreach (var later in new[] { reopened, resubmitted })
        {
            foreach (var endpoint in new[] { billing.Url, kitchen.Url })
            {
                var status = StatusOf(held, later, endpoint);
                (status.GetProperty("status").GetString(), status.GetProperty("attempts").GetInt32())
                    .Should().Be(("pending", 0), $"record {later} is sent nowhere before every endpoint has had {submitted} ({endpoint}): {held}");
            }
        }

        StatusOf(held, submitted, kitchen.Url).GetProperty("status").GetString().Should().Be("pending", "record N is not dead-lettered for the kitchen while the test holds it");

        // The kitchen recovers: it has N, and then each endpoint has N+1, then N+2.
        Volatile.Write(ref kitchenDown, false);
        (await kitchen.NextDeliveredAsync(Delivery)).Version.Should().Be(submitted);
        (await billing.NextAsync(Delivery)).Version.Should().Be(reopened);
        (await billing.NextAsync(Delivery)).Version.Should().Be(resubmitted);
        await stage.WaitForOrderAsync(replica, roomId,
            o => o.GetProperty("records").GetArrayLength() == 3 && OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"),
            Delivery);

        billing.All.Select(r => (r.Version, r.Answer)).Should().Equal(
            [(submitted, ReceiverAnswer.Ok), (reopened, ReceiverAnswer.Ok), (resubmitted, ReceiverAnswer.Ok)], "billing had each record once, in version order");
        billingSentAfterKitchenHadIt.Should().Equal([false, true, true],
            $"billing was sent records {reopened} and {resubmitted} only once the kitchen had answered 200 to {submitted}");
        kitchen.All.Where(r => r.Answer == ReceiverAnswer.Ok).Select(r => r.Version).Should().Equal([submitted, reopened, resubmitted], "the kitchen too, in version order");
    }

    /// <summary>The delivery status of record <paramref name="version"/> for one endpoint (status "none" while the view has no such record).</summary>
    private static JsonElement StatusOf(JsonElement order, long version, string endpoint) =>
        order.GetProperty("records").EnumerateArray().FirstOrDefault(r => r.GetProperty("version").GetInt64() == version) is { ValueKind: JsonValueKind.Object } record
            ? record.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("endpoint").GetString() == endpoint)
            : JsonDocument.Parse("""{"status":"none","attempts":0}""").RootElement;
}
