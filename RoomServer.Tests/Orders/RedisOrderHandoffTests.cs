using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Metrics;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Order hand-off in scaled mode (DESIGN.md §8): real replicas on one real redis-server, a real HTTP
/// receiver on loopback. Retries use small delays (OrderHandoffStage) so the suite stays short.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RedisOrderHandoffTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    /// <summary><c>roomshare_webhook_deliveries_total</c>'s outcomes (DESIGN.md §9).</summary>
    private static readonly string[] Outcomes = ["delivered", "failed", "retried", "dead", "unreadable"];

    [Fact]
    public async Task LockingARoomDeliversOneSignedOrderSubmittedWithTheRightTotalsAndTheStatusSaysDelivered()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        var version = await stage.SetStateAsync(replica, roomId, "locked");
        var received = await stage.Receiver.NextAsync(Delivery);

        received.SignatureValid.Should().BeTrue("the receiver's sample code verifies the v1 HMAC signature");
        received.OrderId.Should().Be($"{roomId}:{version}");
        var body = received.Json;
        body.GetProperty("type").GetString().Should().Be("order.submitted");
        body.GetProperty("orderId").GetString().Should().Be(received.OrderId, "the header and the body carry the same idempotency key");
        body.GetProperty("roomId").GetString().Should().Be(roomId);
        body.GetProperty("version").GetInt64().Should().Be(version);
        body.GetProperty("state").GetString().Should().Be("locked");
        body.GetProperty("name").GetString().Should().Be("Table 7");
        body.GetProperty("by").GetString().Should().Be("api");
        body.GetProperty("epoch").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("at").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("members").EnumerateArray().Select(m => (m.GetProperty("memberId").GetString(), m.GetProperty("displayName").GetString()))
            .Should().Equal(("ann", "Ann"), ("bob", "Bob"));
        body.GetProperty("choices").EnumerateArray().Select(c => (c.GetProperty("memberId").GetString(), c.GetProperty("menuId").GetString(), c.GetProperty("quantity").GetInt32()))
            .Should().Equal(("ann", "pizza", 2), ("bob", "cola", 3));
        body.GetProperty("totals").EnumerateArray().Select(t => (t.GetProperty("menuId").GetString(), t.GetProperty("quantity").GetInt32(), t.GetProperty("amountMinor").GetInt64()))
            .Should().Equal(("pizza", 2, 2500L), ("cola", 3, 900L));
        body.GetProperty("totalMinor").GetInt64().Should().Be(3400);

        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"), Delivery);
        var record = order.GetProperty("records").EnumerateArray().Should().ContainSingle().Subject;
        record.GetProperty("orderId").GetString().Should().Be(received.OrderId);
        record.GetProperty("type").GetString().Should().Be("order.submitted");
        var delivery = record.GetProperty("deliveries").EnumerateArray().Should().ContainSingle().Subject;
        delivery.GetProperty("endpoint").GetString().Should().Be(stage.Receiver.Url);
        delivery.GetProperty("attempts").GetInt32().Should().Be(1);
        delivery.GetProperty("lastError").ValueKind.Should().Be(JsonValueKind.Null);

        // Once: a no-op transition (locked again) writes nothing, and nothing else was sent.
        await stage.SetStateAsync(replica, roomId, "locked");
        await stage.SetStateAsync(replica, roomId, "closed");
        (await stage.Receiver.NextAsync(Delivery)).Type.Should().Be("order.closed");
        stage.Receiver.All.Select(r => r.Type).Should().Equal("order.submitted", "order.closed");
        (await stage.Redis!.ExecuteAsync("XLEN", $"rs:{{{roomId}}}:orders")).Should().Be("2", "one record per transition, none for the no-op");

        // No record without its transition: a refused transition writes none.
        using var api = stage.Api(replica);
        var refused = await api.PutAsJsonAsync($"/api/rooms/{roomId}/state", new { state = "locked" });
        refused.StatusCode.Should().Be(System.Net.HttpStatusCode.Conflict);
        (await stage.Redis!.ExecuteAsync("XLEN", $"rs:{{{roomId}}}:orders")).Should().Be("2");
    }

    [Fact]
    public async Task ARedisOutageDuringDeliveryNeitherStopsTheReplicaNorLosesTheRecord()
    {
        await using var stage = await OrderHandoffStage.StartAsync(startReceiver: false, webhooks: new Dictionary<string, string> { ["RoomServer__Webhooks__MaxAttempts"] = "12" });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var version = await stage.SetStateAsync(replica, roomId, "locked");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() >= 1), Delivery);

        await stage.Redis!.StopAsync();
        // Barrier: the worker logged a failed outbox call ("Order outbox poll failed" / "Order outbox of room ...").
        await Poll.UntilAsync(() => replica.Output.Contains("Order outbox", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the worker meets the outage");
        replica.HasExited.Should().BeFalse("a worker failure never stops the replica");
        await stage.Redis.StartAgainAsync();
        await stage.Receiver.StartAsync();

        var delivered = await stage.Receiver.NextDeliveredAsync(TimeSpan.FromSeconds(40));
        delivered.OrderId.Should().Be($"{roomId}:{version}");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "delivered", Delivery);
        replica.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task AnOutboxMissingFromTheRoomIndexIsFoundByTheSweepAndDelivered()
    {
        // The writer's replica died after the transition, before any survivor knew of the room: simulated by
        // killing the only replica while the receiver refuses connections and dropping the room from the index.
        await using var stage = await OrderHandoffStage.StartAsync(startReceiver: false);
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var version = await stage.SetStateAsync(replica, roomId, "locked");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() >= 1), Delivery);
        (await stage.Redis!.ExecuteAsync("TTL", $"rs:{{{roomId}}}:orders")).Should().Be("-1", "an outbox with a record not yet delivered does not expire");
        replica.Kill();
        await stage.Redis.ExecuteAsync("ZREM", "rs:orders:rooms", roomId);
        await stage.Receiver.StartAsync();

        await replica.StartAgainAsync();

        var delivered = await stage.Receiver.NextDeliveredAsync(TimeSpan.FromSeconds(30));
        delivered.OrderId.Should().Be($"{roomId}:{version}");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "delivered", Delivery);
        // The status is written before the record is settled (two calls): wait for the settle (nothing
        // pending in the group), bounded. Settled, the outbox is kept while its room lives.
        await Poll.UntilAsync(
            async () => ((object?[])(await RespClient.ExecuteAsync(stage.Redis.Port, ["XPENDING", $"rs:{{{roomId}}}:orders", "webhooks"], TimeSpan.FromSeconds(5)))!)[0] is 0L,
            TimeSpan.FromSeconds(10), "the record settled");
        await Poll.UntilAsync(async () => await stage.Redis.ExecuteAsync("TTL", $"rs:{{{roomId}}}:orders") == "-1", TimeSpan.FromSeconds(10), "a settled outbox is kept while its room lives");
    }

    /// <summary>
    /// A settled outbox is the operator view of the room's records: kept while its room lives, whatever
    /// TTL it had (the room's keys live on with every change), and given a default room TTL once the room
    /// is gone — by the worker's claims, so no timing decides it.
    /// </summary>
    [Fact]
    public async Task ASettledOutboxIsKeptWhileItsRoomLivesAndExpiresOnceItIsGone()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        await stage.SetStateAsync(replica, roomId, "locked");
        await stage.Receiver.NextDeliveredAsync(Delivery);
        var orders = $"rs:{{{roomId}}}:orders";
        var deliveries = $"rs:{{{roomId}}}:deliveries";
        await Poll.UntilAsync(async () => await PttlAsync(stage, orders) == -1 && await PttlAsync(stage, deliveries) == -1, TimeSpan.FromSeconds(10), "the settled outbox is kept while its room lives");

        // As if it had been given a TTL the room has since outlived: the next sweep's claim takes it back.
        await stage.Redis!.ExecuteAsync("PEXPIRE", orders, "15000");
        await Poll.UntilAsync(async () => await PttlAsync(stage, orders) == -1, TimeSpan.FromSeconds(14), "a sweep keeps the outbox while its room lives");
        var order = await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order");
        order.GetProperty("records").GetArrayLength().Should().Be(1, "the operator view keeps the live room's record");

        // The room goes (its keys expire): the outbox gets a default room TTL from the next claim.
        await stage.Redis.ExecuteAsync("DEL", $"rs:{{{roomId}}}:meta");
        await Poll.UntilAsync(async () => await PttlAsync(stage, orders) > 0 && await PttlAsync(stage, deliveries) > 0, TimeSpan.FromSeconds(14), "the outbox of a room that is gone expires");
    }

    private static async Task<long> PttlAsync(OrderHandoffStage stage, string key) =>
        long.Parse((await stage.Redis!.ExecuteAsync("PTTL", key))!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task ReopeningAndLockingAgainDeliversReopenedThenASecondSubmittedWithAHigherVersionInOrder()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        var first = await stage.SetStateAsync(replica, roomId, "locked");
        var reopened = await stage.SetStateAsync(replica, roomId, "open");
        var second = await stage.SetStateAsync(replica, roomId, "locked");

        var received = new[] { await stage.Receiver.NextAsync(Delivery), await stage.Receiver.NextAsync(Delivery), await stage.Receiver.NextAsync(Delivery) };
        received.Select(r => (r.Type, r.Version)).Should().Equal(("order.submitted", first), ("order.reopened", reopened), ("order.submitted", second));
        second.Should().BeGreaterThan(first);
        received.Should().OnlyContain(r => r.SignatureValid);
        received[1].Json.GetProperty("state").GetString().Should().Be("open");
    }

    [Fact]
    public async Task RefusedThenFailingThenStallingDeliveriesRetryWithGrowingGapsAndTheSameOrderIdAndBodyUntilTheReceiverRecovers()
    {
        // Connections refused until the receiver starts; then 500, 500, a stall past the 2 s timeout, then 200.
        // Attempts to spare: how many are refused depends on how soon the receiver starts on a loaded machine.
        await using var stage = await OrderHandoffStage.StartAsync(startReceiver: false, webhooks: new Dictionary<string, string> { ["RoomServer__Webhooks__MaxAttempts"] = "12" });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        stage.Receiver.Answers = n => n switch
        {
            0 or 1 => ReceiverAnswer.ServerError,
            2 => ReceiverAnswer.Stall,
            _ => ReceiverAnswer.Ok,
        };

        var version = await stage.SetStateAsync(replica, roomId, "locked");
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var scheduled = WatchScheduledDelaysAsync(stage, replica, roomId, watching.Token);
        var refused = await stage.WaitForOrderAsync(replica, roomId,
            o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() >= 2), Delivery);
        var refusedDelivery = OrderHandoffStage.Deliveries(refused).Single();
        refusedDelivery.GetProperty("status").GetString().Should().Be("pending");
        refusedDelivery.GetProperty("lastError").GetString().Should().Contain("ConnectionError", "the receiver was not listening");
        await stage.Receiver.StartAsync();

        var delivered = await stage.Receiver.NextDeliveredAsync(TimeSpan.FromSeconds(40));
        var attempts = stage.Receiver.All;
        output.WriteLine(stage.Receiver.Describe());
        attempts.Select(a => a.Answer).Should().Equal(ReceiverAnswer.ServerError, ReceiverAnswer.ServerError, ReceiverAnswer.Stall, ReceiverAnswer.Ok);
        attempts.Select(a => a.OrderId).Distinct().Should().Equal($"{roomId}:{version}");
        attempts.Select(a => a.Body).Distinct().Should().ContainSingle("every retry sends the same body");
        attempts.Should().OnlyContain(a => a.SignatureValid);
        delivered.Type.Should().Be("order.submitted");

        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b.At - a.At).ToList();
        output.WriteLine("gaps at the receiver: " + string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0} ms")));
        gaps[2].Should().BeGreaterThan(TimeSpan.FromSeconds(2), "the stalled attempt waited out its 2 s timeout before the retry");

        // Exponential backoff with jitter, as scheduled by the pipeline (each failed attempt's status says when the
        // next one comes). Polly's decorrelated jitter may shrink any single delay (even to near zero), so the check
        // is on the largest later one: past the first, and past twice the 200 ms base a constant backoff would keep.
        await watching.CancelAsync();
        var delays = await scheduled;
        output.WriteLine("scheduled delays by attempt: " + string.Join(", ", delays.Select(d => $"#{d.Key}: {d.Value} ms")));
        delays.Keys.Should().HaveCountGreaterThanOrEqualTo(4, "the watcher saw most failed attempts");
        var later = delays.Values.Skip(1).Max();
        later.Should().BeGreaterThan(delays.First().Value, "the delays grow");
        later.Should().BeGreaterThanOrEqualTo(400, "exponential: past twice the base delay by the fourth retry");

        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "delivered", Delivery);
        var status = OrderHandoffStage.Deliveries(order).Single();
        status.GetProperty("attempts").GetInt32().Should().BeGreaterThanOrEqualTo(6, "at least two refused connections, two 500s, a timeout and the success");
        var metrics = await new HttpClient { BaseAddress = replica.BaseUrl }.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        metrics.Should().MatchRegex("roomshare_webhook_deliveries_total\\{[^}]*outcome=\"retried\"\\} [5-9]")
            .And.MatchRegex("roomshare_webhook_deliveries_total\\{[^}]*outcome=\"delivered\"\\} 1\\b");
        // Every attempt but the last failed (refused, 500, 500, timed out), and each counts one failed (DESIGN.md §9).
        var attemptsMade = status.GetProperty("attempts").GetInt32();
        new PrometheusText(metrics).Value("roomshare_webhook_deliveries_total", ("outcome", "failed"))
            .Should().Be(attemptsMade - 1, $"each of the {attemptsMade - 1} attempts that failed before the one delivered counts one failed");
    }

    /// <summary>
    /// <c>roomshare_webhook_deliveries_total{outcome}</c> (DESIGN.md §8, §9): every attempt that fails counts one
    /// <c>failed</c>, the last one before a dead letter included; <c>retried</c> counts only the attempts scheduled after
    /// one, <c>dead</c> the letter and <c>delivered</c> the 2xx. One record fails all its three attempts (500) and is
    /// dead-lettered; the next fails once and is delivered at its second attempt.
    /// </summary>
    [Fact]
    public async Task EachFailedAttemptCountsOneFailedTheLastBeforeADeadLetterIncludedBesideRetriedDeadAndDelivered()
    {
        await using var stage = await OrderHandoffStage.StartAsync(webhooks: new Dictionary<string, string> { ["RoomServer__Webhooks__MaxAttempts"] = "3" });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        // Requests 0-2: the submitted record's three attempts; 3 and 4: the closed record's two.
        stage.Receiver.Answers = n => n < 4 ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;

        await stage.SetStateAsync(replica, roomId, "locked");
        await WaitForDeadLetterAsync(stage, replica, roomId);
        await stage.SetStateAsync(replica, roomId, "closed");
        await stage.WaitForOrderAsync(replica, roomId,
            o => OrderHandoffStage.Deliveries(o).Select(d => d.GetProperty("status").GetString()).SequenceEqual(["dead", "delivered"]), Delivery);
        stage.Receiver.All.Select(r => r.Answer).Should().Equal(
            [ReceiverAnswer.ServerError, ReceiverAnswer.ServerError, ReceiverAnswer.ServerError, ReceiverAnswer.ServerError, ReceiverAnswer.Ok],
            "three attempts for the dead record, two for the delivered one");

        using var scrape = new HttpClient { BaseAddress = replica.BaseUrl };
        var metrics = await Poll.ForAsync(
            async () => new PrometheusText(await scrape.GetStringAsync(new Uri("/metrics", UriKind.Relative))),
            m => Outcome(m, "dead") == 1 && Outcome(m, "delivered") == 1,
            TimeSpan.FromSeconds(10),
            m => $"the dead letter and the delivery counted; scraped: {string.Join(", ", Outcomes.Select(o => $"{o}={Outcome(m, o)}"))}");
        Outcome(metrics, "failed").Should().Be(4, "four attempts failed (500): three of the dead-lettered record, the last included, and the first of the delivered one");
        Outcome(metrics, "retried").Should().Be(3, "a retry was scheduled after each failed attempt but the dead record's last");
        Outcome(metrics, "dead").Should().Be(1);
        Outcome(metrics, "delivered").Should().Be(1);
        Outcome(metrics, "unreadable").Should().Be(0, "every record was read (each outcome is exported from start-up)");
    }

    private static double? Outcome(PrometheusText metrics, string outcome) =>
        metrics.Value("roomshare_webhook_deliveries_total", ("outcome", outcome));

    [Fact]
    public async Task KillingTheReplicaThatIsDeliveringLeavesTheRecordToAnotherReplicaThatCompletesIt()
    {
        await using var stage = await OrderHandoffStage.StartAsync(replicas: 2);
        var writer = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(writer);
        // The first answer stalls, so whoever holds the record is mid-delivery when it is killed.
        stage.Receiver.Answers = n => n == 0 ? ReceiverAnswer.Stall : ReceiverAnswer.Ok;

        var version = await stage.SetStateAsync(writer, roomId, "locked");
        var first = await stage.Receiver.NextAsync(Delivery);
        first.Answer.Should().Be(ReceiverAnswer.Stall);
        var holder = await HolderAsync(stage, roomId);
        var victim = stage.Replicas.Single(r => r.ReplicaId == holder);
        var survivor = stage.Replicas.Single(r => r != victim);
        output.WriteLine($"{holder} holds {roomId}:{version}; killing it (pid {victim.Pid})");
        victim.Kill();

        var delivered = await stage.Receiver.NextDeliveredAsync(TimeSpan.FromSeconds(30));
        delivered.OrderId.Should().Be($"{roomId}:{version}");
        delivered.Body.Should().Be(first.Body);
        delivered.SignatureValid.Should().BeTrue();
        var order = await stage.WaitForOrderAsync(survivor, roomId, o => OrderHandoffStage.Deliveries(o).Single().GetProperty("status").GetString() == "delivered", Delivery);
        order.GetProperty("records").GetArrayLength().Should().Be(1);
        // The status reads "delivered" as soon as the receiver has answered; the settle (XACK) follows it.
        (await Poll.UntilSettledAsync(() => HolderAsync(stage, roomId), holder => holder is null, TimeSpan.FromSeconds(10))).Should().BeNull("the survivor settled the record");
        stage.Receiver.All.Should().HaveCount(2, "the stalled attempt of the dead replica, then the survivor's");
    }

    [Fact]
    public async Task ARecordTheReceiverRejectsForGoodIsDeadLetteredWithItsLastErrorAndARetryDeliversItOnceTheReceiverIsFixed()
    {
        await using var stage = await OrderHandoffStage.StartAsync(webhooks: new Dictionary<string, string> { ["RoomServer__Webhooks__MaxAttempts"] = "3" });
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var broken = true;
        stage.Receiver.Answers = _ => Volatile.Read(ref broken) ? ReceiverAnswer.Reject : ReceiverAnswer.Ok;

        var version = await stage.SetStateAsync(replica, roomId, "locked");
        var dead = await WaitForDeadLetterAsync(stage, replica, roomId);
        dead.GetProperty("orderId").GetString().Should().Be($"{roomId}:{version}");
        dead.GetProperty("type").GetString().Should().Be("order.submitted");
        dead.GetProperty("endpoint").GetString().Should().Be(stage.Receiver.Url);
        dead.GetProperty("attempts").GetInt32().Should().Be(3);
        dead.GetProperty("lastError").GetString().Should().Contain("422");
        stage.Receiver.All.Should().HaveCount(3);
        var status = OrderHandoffStage.Deliveries(await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order")).Single();
        status.GetProperty("status").GetString().Should().Be("dead");
        status.GetProperty("lastError").GetString().Should().Contain("422");

        // A later record of the room is not held up by the dead one.
        await stage.SetStateAsync(replica, roomId, "closed");
        await WaitForDeadLetterCountAsync(stage, replica, 2);

        Volatile.Write(ref broken, false);
        using var api = stage.Api(replica);
        var retry = await api.PostAsync(new Uri($"/api/deadletters/{dead.GetProperty("id").GetString()}/retry", UriKind.Relative), null);
        retry.StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted);
        var redelivered = await stage.Receiver.NextDeliveredAsync(Delivery);
        redelivered.OrderId.Should().Be($"{roomId}:{version}");
        redelivered.Body.Should().Be(stage.Receiver.All[0].Body, "a retried dead letter keeps its body");
        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).First().GetProperty("status").GetString() == "delivered", Delivery);
        order.GetProperty("records").GetArrayLength().Should().Be(2);
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("type").GetString()).Should().Equal("order.closed");

        var retryAll = await api.PostAsync(new Uri("/api/deadletters/retry", UriKind.Relative), null);
        retryAll.StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted);
        (await stage.Receiver.NextDeliveredAsync(Delivery)).Type.Should().Be("order.closed");
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
    }

    /// <summary>Polls the record's status, collecting the delay the pipeline scheduled after each failed attempt.</summary>
    private static async Task<SortedDictionary<int, int>> WatchScheduledDelaysAsync(OrderHandoffStage stage, RoomServerProcess replica, string roomId, CancellationToken stop)
    {
        var delays = new SortedDictionary<int, int>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var order = await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order");
                foreach (var delivery in OrderHandoffStage.Deliveries(order))
                {
                    var error = delivery.GetProperty("lastError").GetString() ?? "";
                    var match = System.Text.RegularExpressions.Regex.Match(error, @"next attempt in (\d+) ms");
                    if (match.Success)
                    {
                        delays[delivery.GetProperty("attempts").GetInt32()] = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(40), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return delays;
    }

    private static async Task<string?> HolderAsync(OrderHandoffStage stage, string roomId)
    {
        const string Holder = "local p = redis.call('XPENDING', KEYS[1], 'webhooks', '-', '+', 1)[1]; if p then return p[2] end return false";
        return await stage.Redis!.ExecuteAsync("EVAL", Holder, "1", $"rs:{{{roomId}}}:orders");
    }

    private static async Task<JsonElement> WaitForDeadLetterAsync(OrderHandoffStage stage, RoomServerProcess replica, string roomId)
    {
        var items = await WaitForDeadLetterCountAsync(stage, replica, 1);
        return items.Single(i => i.GetProperty("roomId").GetString() == roomId);
    }

    private static Task<List<JsonElement>> WaitForDeadLetterCountAsync(OrderHandoffStage stage, RoomServerProcess replica, int count) =>
        Poll.ForAsync(
            async () => (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().ToList(),
            items => items.Count >= count, TimeSpan.FromSeconds(30),
            items => $"{count} dead letter(s) expected, {items.Count} listed; received: {stage.Receiver.Describe()}");
}
