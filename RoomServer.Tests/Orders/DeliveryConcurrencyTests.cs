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
        var rooms = await stage.CreateRoomsAsync(replica, StuckRooms);

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
        // Billing's receiver records a request before its answer reaches the replica, so the room's record may still
        // read pending for billing a moment after billing has it: read until it has settled.
        var statuses = await Poll.UntilSettledAsync(
            async () => OrderHandoffStage.Deliveries(await stage.GetJsonAsync(replica, $"/api/rooms/{rooms[^1]}/order"))
                .Select(d => (d.GetProperty("endpoint").GetString(), d.GetProperty("status").GetString())).ToList(),
            read => read.Contains((stage.Receiver.Url, "delivered")),
            TimeSpan.FromSeconds(10));
        statuses.Should().Equal((stage.Receiver.Url, "delivered"), (kitchen.Url, "pending"));

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
        var rooms = await stage.CreateRoomsAsync(replica, roomCount);

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

    [Fact]
    public async Task AnEndpointThatHangsHoldsOnlyItsOwnRequestsAndNeverTheOtherEndpoints()
    {
        const int limit = 2;
        const int roomCount = 10;
        await using var kitchen = new WebhookReceiver(KitchenSecret) { Answers = _ => ReceiverAnswer.Stall };
        await kitchen.StartAsync();
        await using var stage = await OrderHandoffStage.StartAsync(embedded: Embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,
            ["RoomServer__Webhooks__MaxConcurrentRequests"] = limit.ToString(CultureInfo.InvariantCulture),

            // Each kitchen attempt holds its request 25 s (the receiver stalls 30); with one limit for both
            // endpoints, billing's records would queue behind them.
            ["RoomServer__Webhooks__TimeoutSeconds"] = "25",
            ["RoomServer__Webhooks__MaxAttempts"] = "30",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "60000",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "60000",
        });
        var replica = stage.Replicas[0];
        var rooms = await stage.CreateRoomsAsync(replica, roomCount);

        await Task.WhenAll(rooms.Select(room => stage.SetStateAsync(replica, room, "locked")));
        // All within 12 s of the locks (a shared limit would hold the rest 25 s).
        var billed = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (billed.Count < roomCount)
        {
            var left = TimeSpan.FromSeconds(12) - clock.Elapsed;
            var next = await stage.Receiver.NextAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            billed.Add(next.Json.GetProperty("roomId").GetString()!);
        }

        billed.Should().BeEquivalentTo(rooms, "billing is not held up by the kitchen's hanging requests");
        kitchen.MostInFlight.Should().Be(limit, "the kitchen's requests hang, and at most {0} go to it at a time", limit);
        stage.Receiver.MostInFlight.Should().BeLessThanOrEqualTo(limit);
    }

    [Fact]
    public async Task WaitingForAFreeRequestIsNotCountedAgainstAnAttemptsDeadline()
    {
        const int roomCount = 5;
        await using var stage = await OrderHandoffStage.StartAsync(embedded: Embedded, webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__MaxConcurrentRequests"] = "1",
            ["RoomServer__Webhooks__TimeoutSeconds"] = "3",
        });

        // Each answer takes 1 s of the attempt's 3 s: the fifth record waits 4 s for its turn.
        stage.Receiver.AnswerDelay = TimeSpan.FromSeconds(1);
        var replica = stage.Replicas[0];
        var rooms = await stage.CreateRoomsAsync(replica, roomCount);

        await Task.WhenAll(rooms.Select(room => stage.SetStateAsync(replica, room, "locked")));
        foreach (var room in rooms)
        {
            var order = await stage.WaitForOrderAsync(replica, room,
                o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("status").GetString() == "delivered"), TimeSpan.FromSeconds(20));
            OrderHandoffStage.Deliveries(order).Single().GetProperty("attempts").GetInt32().Should().Be(1, "no attempt timed out waiting for its turn");
        }

        stage.Receiver.All.Should().HaveCount(roomCount, "one request per record, none repeated");
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

    /// <summary>
    /// Rooms one replica holds (their records in backoff) are not claimed by the other on every poll: it
    /// leaves each be for a third of the claim timeout, the holder's renewal period. Counted by Redis:
    /// a claim attempt on a held room runs one XAUTOCLAIM.
    /// </summary>
    [Fact]
    public async Task AReplicaLeavesRoomsAnotherHoldsBeUntilTheirClaimCouldHaveLapsed()
    {
        const int roomCount = 20;
        await using var stage = await OrderHandoffStage.StartAsync(replicas: 2, startReceiver: false, webhooks: new Dictionary<string, string>
        {
            // Refused connections, then a minute's backoff: every room stays held by the replica delivering it.
            ["RoomServer__Webhooks__MaxAttempts"] = "30",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "60000",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "60000",
        });
        var rooms = await stage.CreateRoomsAsync(stage.Replicas[0], roomCount);

        foreach (var room in rooms)
        {
            await stage.SetStateAsync(stage.Replicas[0], room, "locked");
        }

        foreach (var room in rooms)
        {
            await stage.WaitForOrderAsync(stage.Replicas[0], room, o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() >= 1), TimeSpan.FromSeconds(20));
        }

        // Polls every 200 ms, claims renewed every 1 s (ClaimTimeoutSeconds 3): claiming every held room on
        // every poll would be 20 × 5 = 100 XAUTOCLAIMs a second; leaving them be, about 20.
        await stage.Redis!.ExecuteAsync("CONFIG", "RESETSTAT");
        await Task.Delay(TimeSpan.FromSeconds(5));
        var stats = await stage.Redis.ExecuteAsync("INFO", "commandstats") ?? "";
        var line = stats.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_xautoclaim:", StringComparison.Ordinal)) ?? "cmdstat_xautoclaim:calls=0,";
        var calls = int.Parse(line.Split("calls=")[1].Split(',')[0], CultureInfo.InvariantCulture);
        calls.Should().BeInRange(20, 249, "each held room is tried about once a second, not on each of five polls a second ({0})", line.Trim());
    }
}
