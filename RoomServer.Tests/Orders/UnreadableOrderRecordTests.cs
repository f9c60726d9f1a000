using System.Net;
using System.Text.Json;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// An order record a replica cannot read (a damaged stream entry, or a newer RoomShare's during a
/// rolling upgrade; DESIGN.md §8) is left for the other replicas to try, then — on its third claim, by a
/// replica that cannot read it — dead-lettered for each endpoint, so it does not hold up its room's later records;
/// and it is not lost: a retry puts the record back as it was stored, for that endpoint. Real replica,
/// real redis-server, real HTTP receivers; the bad record is written straight into the room's outbox
/// stream. Claims lapse after 3 s here (OrderHandoffStage), so three claims take ~12 s on one replica.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class UnreadableOrderRecordTests
{
    private const string KitchenSecret = "kitchen-secret-fedcba9876543210";

    // Endpoints never reached: the tests that claim through the outbox alone send nothing.
    private const string Billing = "http://127.0.0.1:9/billing";
    private const string Kitchen = "http://127.0.0.1:9/kitchen";

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    /// <summary>Three claims of an unreadable record, each after the last one lapsed and the replica stayed away.</summary>
    private static readonly TimeSpan ThreeClaims = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task AnUnreadableRecordIsDeadLetteredForEachEndpointAfterThreeClaimsAndTheRoomsLaterRecordsStillGo()
    {
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        await using var stage = await StartWithKitchenAsync(kitchen);
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomAsync(replica);
        await stage.SetStateAsync(replica, roomId, "locked");
        (await billing.NextAsync(Delivery)).Type.Should().Be("order.submitted");
        (await kitchen.NextAsync(Delivery)).Type.Should().Be("order.submitted");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Count(d => d.GetProperty("status").GetString() == "delivered") == 2, Delivery);

        // Its room's JSON is cut short, and its version is not a number.
        var damaged = $"{roomId}:damaged";
        await stage.Redis!.ExecuteAsync("XADD", $"rs:{{{roomId}}}:orders", "*",
            "orderId", damaged, "type", "order.reopened", "version", "v?", "at", "2026-12-01T00:00:00.000Z", "by", "api", "room", "{\"epoch\":\"e");
        var reopened = await stage.SetStateAsync(replica, roomId, "open");

        var next = await billing.NextAsync(ThreeClaims);
        (next.Type, next.Version).Should().Be(("order.reopened", reopened), "the record after the unreadable one is delivered (so that one was settled: one record of a room at a time)");
        (await kitchen.NextAsync(Delivery)).Version.Should().Be(reopened);
        await Poll.UntilAsync(() => replica.Output.Contains("has been claimed 3 times", StringComparison.Ordinal), Delivery, "the dead letters' log line");
        replica.Output.Should().Contain("left for another replica (claim 1 of 3)").And.Contain("left for another replica (claim 2 of 3)",
            "it was left twice before its third claim dead-lettered it");

        var letters = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().ToList();
        letters.Select(l => l.GetProperty("endpoint").GetString()).Should().BeEquivalentTo([billing.Url, kitchen.Url], "one dead letter per endpoint");
        foreach (var letter in letters)
        {
            letter.GetProperty("orderId").GetString().Should().Be(damaged);
            letter.GetProperty("roomId").GetString().Should().Be(roomId);
            letter.GetProperty("type").GetString().Should().Be("order.reopened");
            letter.GetProperty("attempts").GetInt32().Should().Be(0, "it was never sent");
            letter.GetProperty("lastError").GetString().Should().StartWith("unreadable record: ");
        }

        using (var scrape = new HttpClient { BaseAddress = replica.BaseUrl })
        {
            (await scrape.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Should()
                .MatchRegex("roomshare_webhook_deliveries_total\\{[^}]*outcome=\"unreadable\"\\} 2\\b", "one per endpoint")
                .And.MatchRegex("roomshare_webhook_deliveries_total\\{[^}]*outcome=\"dead\"\\} 0\\b", "no endpoint refused anything");
        }

        // The operator view lists it (it does not fail on it), dead for both endpoints, beside the delivered ones.
        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Count(d => d.GetProperty("status").GetString() == "delivered") == 4, Delivery);
        var records = order.GetProperty("records").EnumerateArray().ToList();
        records.Select(r => r.GetProperty("orderId").GetString()).Should().Contain(damaged).And.HaveCount(3);
        var statuses = records.Single(r => r.GetProperty("orderId").GetString() == damaged).GetProperty("deliveries").EnumerateArray().ToList();
        statuses.Select(s => s.GetProperty("status").GetString()).Should().Equal("dead", "dead");
        statuses.Should().OnlyContain(s => s.GetProperty("lastError").GetString()!.StartsWith("unreadable record: ", StringComparison.Ordinal));

        // Retried for billing, it goes back as it was stored, for billing alone; still unreadable here, it is
        // dead-lettered again for billing only, and the kitchen's letter and status stay as they were.
        var billingLetter = letters.Single(l => l.GetProperty("endpoint").GetString() == billing.Url).GetProperty("id").GetString();
        var kitchenLetter = letters.Single(l => l.GetProperty("endpoint").GetString() == kitchen.Url).GetProperty("id").GetString();
        using var api = stage.Api(replica);
        (await api.PostAsync(new Uri($"/api/deadletters/{billingLetter}/retry", UriKind.Relative), null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var restored = (await StoredRecordsAsync(stage.Redis!, roomId))[^1];
        restored.Should().Equal(
            ("orderId", damaged), ("type", "order.reopened"), ("version", "v?"), ("at", "2026-12-01T00:00:00.000Z"), ("by", "api"),
            ("room", "{\"epoch\":\"e"), ("endpoint", billing.Url));
        var after = await Poll.ForAsync(
            async () => (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().ToList(),
            items => items.Count == 2 && items.All(i => i.GetProperty("id").GetString() != billingLetter),
            ThreeClaims,
            items => $"dead letters after the retry: {string.Join(", ", items.Select(i => i.GetProperty("endpoint").GetString()))}");
        after.Select(l => (l.GetProperty("endpoint").GetString(), l.GetProperty("orderId").GetString()))
            .Should().BeEquivalentTo([(kitchen.Url, damaged), (billing.Url, damaged)]);
        after.Should().Contain(l => l.GetProperty("id").GetString() == kitchenLetter, "the kitchen's letter was not retried");
        billing.All.Select(r => r.Type).Should().Equal("order.submitted", "order.reopened");
        kitchen.All.Select(r => r.Type).Should().Equal("order.submitted", "order.reopened");

        // And the room still goes on.
        await stage.SetStateAsync(replica, roomId, "closed");
        (await billing.NextAsync(Delivery)).Type.Should().Be("order.closed");
        (await kitchen.NextAsync(Delivery)).Type.Should().Be("order.closed");
    }

    [Fact]
    public async Task AnEndpointThatAlreadyHasTheRecordGetsNoDeadLetterForIt()
    {
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        await using var stage = await StartWithKitchenAsync(kitchen);
        var billing = stage.Receiver;
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomAsync(replica);

        // As a replica that could read the record leaves it when it dies after billing took it.
        var damaged = $"{roomId}:damaged";
        await stage.Redis!.ExecuteAsync("HSET", $"rs:{{{roomId}}}:deliveries", $"{damaged} {billing.Url}", "{\"status\":\"delivered\",\"attempts\":1,\"lastError\":null}");
        await stage.Redis!.ExecuteAsync("XGROUP", "CREATE", $"rs:{{{roomId}}}:orders", "webhooks", "0", "MKSTREAM"); // as state.lua makes it
        await stage.Redis!.ExecuteAsync("XADD", $"rs:{{{roomId}}}:orders", "*",
            "orderId", damaged, "type", "order.submitted", "version", "1", "at", "2026-12-01T00:00:00.000Z", "by", "api", "room", "{");
        await stage.SetStateAsync(replica, roomId, "locked");

        (await billing.NextAsync(ThreeClaims)).Type.Should().Be("order.submitted", "the record after the unreadable one goes on");
        var letter = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;
        letter.GetProperty("endpoint").GetString().Should().Be(kitchen.Url, "billing has the record already");
        var statuses = (await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order")).GetProperty("records").EnumerateArray()
            .Single(r => r.GetProperty("orderId").GetString() == damaged).GetProperty("deliveries").EnumerateArray()
            .ToDictionary(d => d.GetProperty("endpoint").GetString()!, d => d.GetProperty("status").GetString());
        statuses.Should().Equal(new Dictionary<string, string?> { [billing.Url] = "delivered", [kitchen.Url] = "dead" });
    }

    /// <summary>
    /// A replica that could read the record dead-lettered it for the kitchen (its status dead) and died before settling it;
    /// the replicas left cannot read it. The one whose third claim dead-letters it writes the kitchen no second letter.
    /// Scaled mode's outbox alone (embedded mode's records are always readable), claims lapsing at once.
    /// </summary>
    [Fact]
    public async Task AnEndpointThatHasADeadLetterForTheRecordAlreadyGetsNoSecondOne()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var options = WebhooksTo(Billing, Kitchen);
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "u1", options);
        var outbox = RedisDeadLetters.Outbox(standalone, options);

        const string Damaged = "r1:damaged";
        await redis.ExecuteAsync("XGROUP", "CREATE", "rs:{r1}:orders", RedisOrderOutbox.Group, "0", "MKSTREAM");
        await redis.ExecuteAsync("XADD", "rs:{r1}:orders", "*", "orderId", Damaged, "type", "order.submitted", "version", "1", "at", "2026-12-01T00:00:00.000Z", "by", "api", "room", "{");
        await redis.ExecuteAsync("HSET", "rs:{r1}:deliveries", $"{Damaged} {Kitchen}", "{\"status\":\"dead\",\"attempts\":8,\"lastError\":\"HTTP 500\"}");
        await outbox.DeadLetterAsync(new DeadLetter("", Damaged, "r1", "order.submitted", 1, "2026-12-01T00:00:00.000Z", Kitchen, 8, "HTTP 500", "2026-12-01T00:01:00.000Z", "{}"));

        for (var claim = 1; claim < UnreadableOrderRecords.MostClaims; claim++)
        {
            (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.LeftForOthers, $"claim {claim} leaves it for the others");
        }

        (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.Empty, "the third claim dead-letters and settles it");
        var letters = (await outbox.DeadLettersAsync(null, 100)).Select(l => (l.OrderId, l.Endpoint)).ToList();
        letters.Should().BeEquivalentTo([(Damaged, Kitchen), (Damaged, Billing)], "one dead letter per endpoint: the kitchen had one already");
    }

    /// <summary>
    /// A process that finds another live process under its ReplicaId while it dead-letters an unreadable record (DESIGN.md §9:
    /// that one's claims pass for this one's) stops there: no letter after the permit is gone, the record left pending and
    /// the room's next record not claimed. Once the permit is back the rest is done, each endpoint's letter once. The permit
    /// here allows one ask: the worker's own before the claim is not made, and the first endpoint's renewal takes it.
    /// </summary>
    [Fact]
    public async Task APermitLostWhileAnUnreadableRecordIsDeadLetteredStopsBeforeTheNextLetter()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var options = WebhooksTo(Billing, Kitchen);
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "u1", options);
        var permit = new PermitForAsks(int.MaxValue);
        var outbox = standalone.OrderOutbox(Microsoft.Extensions.Options.Options.Create(options), permit);

        const string Damaged = "r1:damaged";
        await redis.ExecuteAsync("XGROUP", "CREATE", "rs:{r1}:orders", RedisOrderOutbox.Group, "0", "MKSTREAM");
        await redis.ExecuteAsync("XADD", "rs:{r1}:orders", "*", "orderId", Damaged, "type", "order.submitted", "version", "1", "at", "2026-12-01T00:00:00.000Z", "room", "{");
        await redis.ExecuteAsync("XADD", "rs:{r1}:orders", "*", "orderId", "r1:2", "type", "order.reopened", "version", "2", "at", "2026-12-01T00:00:00.000Z", "body", "{}");
        for (var claim = 1; claim < UnreadableOrderRecords.MostClaims; claim++)
        {
            (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.LeftForOthers, $"claim {claim} leaves it for the others");
        }

        permit.Asks = 1;
        (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.PermitLost);

        var letters = (await outbox.DeadLettersAsync(null, 100)).Select(l => (l.OrderId, l.Endpoint)).ToList();
        letters.Should().Equal([(Damaged, Billing)], "the kitchen's letter came after the permit was gone");
        var db = standalone.Connection.Connection.GetDatabase();
        (await db.StreamLengthAsync("rs:{r1}:orders")).Should().Be(2, "nothing was settled or trimmed");
        var pending = await db.StreamPendingAsync("rs:{r1}:orders", RedisOrderOutbox.Group);
        (pending.PendingMessageCount, (string?)pending.LowestPendingMessageId).Should().Be((1, (string?)pending.HighestPendingMessageId),
            "the unreadable record is still pending, and the next was not claimed");

        permit.Asks = int.MaxValue;
        var next = await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero);
        (next.Outcome, next.Entry?.OrderId).Should().Be((ClaimOutcome.Claimed, "r1:2"), "the holder of the id dead-letters the rest and goes on");
        letters = (await outbox.DeadLettersAsync(null, 100)).Select(l => (l.OrderId, l.Endpoint)).ToList();
        letters.Should().BeEquivalentTo([(Damaged, Billing), (Damaged, Kitchen)], "each endpoint's letter once");
    }

    private static RoomServerOptions WebhooksTo(params string[] urls)
    {
        var options = new RoomServerOptions();
        options.Webhooks.Endpoints.AddRange(urls.Select(url => new WebhookEndpoint { Url = url, Secret = KitchenSecret }));
        return options;
    }

    /// <summary>A ReplicaId permit that says yes to as many more asks as <see cref="Asks"/> says.</summary>
    private sealed class PermitForAsks(int asks) : IOrderClaimPermit
    {
        public int Asks { get; set; } = asks;

        public bool MayClaim => Asks-- > 0;
    }

    /// <summary>
    /// A record that parses but whose orderId no request can carry (a line break in it: damaged) is unreadable too, not a
    /// record every claim fails to send on its header, which would hold up its room for good. The same record with a
    /// sendable orderId, in another room, is claimed. Scaled mode's outbox alone, claims lapsing at once.
    /// </summary>
    [Fact]
    public async Task ARecordWhoseOrderIdCannotBeSentIsDeadLetteredAsUnreadable()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var options = WebhooksTo(Billing);
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "u1", options);
        var outbox = RedisDeadLetters.Outbox(standalone, options);

        const string Damaged = "r1:1\r\nX-Injected: yes";
        foreach (var (room, orderId) in new[] { ("r1", Damaged), ("r2", "r2:1") })
        {
            await redis.ExecuteAsync("XGROUP", "CREATE", $"rs:{{{room}}}:orders", RedisOrderOutbox.Group, "0", "MKSTREAM");
            await redis.ExecuteAsync("XADD", $"rs:{{{room}}}:orders", "*",
                "orderId", orderId, "type", "order.submitted", "version", "1", "at", "2026-12-01T00:00:00.000Z", "body", "{}");
        }

        var readable = await outbox.ClaimNextAsync("r2", "u1", TimeSpan.Zero);
        readable.Outcome.Should().Be(ClaimOutcome.Claimed, "the same record with a sendable orderId is read");
        readable.Entry!.OrderId.Should().Be("r2:1");

        for (var claim = 1; claim < UnreadableOrderRecords.MostClaims; claim++)
        {
            (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.LeftForOthers, $"claim {claim} leaves it for the others");
        }

        (await outbox.ClaimNextAsync("r1", "u1", TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.Empty, "the third claim dead-letters and settles it");
        var letter = (await outbox.DeadLettersAsync(null, 100)).Should().ContainSingle().Subject;
        (letter.OrderId, letter.Endpoint, letter.Attempts).Should().Be((Damaged, Billing, 0));
        letter.LastError.Should().StartWith("unreadable record: ").And.Contain("orderId");
    }

    [Fact]
    public async Task ARetriedUnreadableRecordThatCanBeReadNowIsDeliveredAsItsOriginalWouldHaveBeen()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        await stage.SetStateAsync(replica, roomId, "locked");
        var original = await stage.Receiver.NextAsync(Delivery);
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"), Delivery);

        // A dead letter as replicas that could not read this record would have written it (the record, as
        // stored, in its body): after an upgrade every replica reads it, and the retry delivers it.
        var stored = (await StoredRecordsAsync(stage.Redis!, roomId)).Single();
        var fields = stored.ToDictionary(f => f.Field, f => f.Value);
        var letterId = await stage.Redis!.ExecuteAsync("XADD", "rs:orders:deadletters", "*",
            "orderId", fields["orderId"], "roomId", roomId, "type", fields["type"], "version", fields["version"], "at", fields["at"],
            "endpoint", stage.Receiver.Url, "attempts", "0", "lastError", "unreadable record: written by a newer RoomShare",
            "deadAt", "2026-12-01T00:00:00.000Z", "body", JsonSerializer.Serialize(stored.Select(f => new[] { f.Field, f.Value })), "unreadable", "1");

        using var api = stage.Api(replica);
        var retry = await api.PostAsync(new Uri($"/api/deadletters/{letterId}/retry", UriKind.Relative), null);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var redelivered = await stage.Receiver.NextAsync(Delivery);
        redelivered.SignatureValid.Should().BeTrue();
        (redelivered.OrderId, redelivered.Body).Should().Be((original.OrderId, original.Body), "the same stored fields make the same body");
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
    }

    /// <summary>A replica with two endpoints: the stage's receiver ("billing") and <paramref name="kitchen"/>, started here.</summary>
    private static async Task<OrderHandoffStage> StartWithKitchenAsync(WebhookReceiver kitchen)
    {
        await kitchen.StartAsync();
        return await OrderHandoffStage.StartAsync(webhooks: new Dictionary<string, string>
        {
            ["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url,
            ["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret,
        });
    }

    /// <summary>The room's outbox entries, oldest first, each as its field/value pairs in stored order.</summary>
    private static async Task<List<List<(string Field, string Value)>>> StoredRecordsAsync(RedisServerProcess redis, string roomId)
    {
        var reply = (object?[])(await RespClient.ExecuteAsync(redis.Port, ["XRANGE", $"rs:{{{roomId}}}:orders", "-", "+"], TimeSpan.FromSeconds(5)))!;
        return reply.Cast<object?[]>().Select(entry =>
        {
            var flat = ((object?[])entry[1]!).Cast<string>().ToList();
            return Enumerable.Range(0, flat.Count / 2).Select(i => (flat[2 * i], flat[(2 * i) + 1])).ToList();
        }).ToList();
    }
}
