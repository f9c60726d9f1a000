using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The outbox's bound (DESIGN.md §8, <c>RoomServer__Webhooks__SettledRecordsKept</c>): a room keeps its newest settled
/// records and every one not yet settled, whatever its owner toggles; the trimmed records' statuses go with them
/// (Redis: <c>XLEN</c> of the stream, <c>HLEN</c> of the status hash), and a dead letter of a trimmed record is still
/// retried and delivered. Embedded and Redis modes alike, through the operator view.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class SettledRecordsKeptTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PastTheBoundOnlyTheNewestSettledRecordsAreKeptWithTheirStatuses(bool embedded)
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: Kept(3));
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);

        var versions = await ToggleAsync(stage, replica, roomId, 7);

        var order = await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(versions[^3..]) && AllDelivered(o), Delivery);
        order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("type").GetString())
            .Should().Equal("order.submitted", "order.reopened", "order.submitted");
        stage.Receiver.All.Where(r => r.Answer == ReceiverAnswer.Ok).Select(r => r.Version).Should().Equal(versions, "every record was delivered before it was trimmed");
        if (!embedded)
        {
            (await LengthsAsync(stage, roomId)).Should().Be((3, 3), "the stream and the status hash keep the three newest records alone");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARecordStillPendingIsKeptPastTheBoundWithEveryRecordAfterIt(bool embedded)
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: Kept(2, maxAttempts: 100));
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var refusing = false;
        stage.Receiver.Answers = _ => Volatile.Read(ref refusing) ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        var delivered = await ToggleAsync(stage, replica, roomId, 3);
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(delivered[^2..]) && AllDelivered(o), Delivery);

        Volatile.Write(ref refusing, true);
        var waiting = await ToggleAsync(stage, replica, roomId, 4, from: "locked");
        var order = await stage.WaitForOrderAsync(replica, roomId,
            o => OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("attempts").GetInt32() >= 3), Delivery);

        VersionsOf(order).Should().Equal([.. delivered[^2..], .. waiting], "the pending record and those behind it are kept past the bound");
        StatusesOf(order).Should().Equal("delivered", "delivered", "pending", "pending", "pending", "pending");
        if (!embedded)
        {
            (await LengthsAsync(stage, roomId)).Item1.Should().Be(6);
        }

        Volatile.Write(ref refusing, false);
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(waiting[^2..]) && AllDelivered(o), Delivery);
        if (!embedded)
        {
            (await LengthsAsync(stage, roomId)).Should().Be((2, 2));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADeadLetterOfATrimmedRecordIsRetriedAndDeliveredWithItsBodyUnchanged(bool embedded)
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: Kept(1, maxAttempts: 1));
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        stage.Receiver.Answers = n => n == 0 ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        var versions = await ToggleAsync(stage, replica, roomId, 3);
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(versions[^1..]) && AllDelivered(o), Delivery);
        if (!embedded)
        {
            (await LengthsAsync(stage, roomId)).Should().Be((1, 1), "the dead record and its status were trimmed");
        }

        var letter = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;
        letter.GetProperty("orderId").GetString().Should().Be(OrderId(roomId, versions[0]));
        using var api = stage.Api(replica);
        (await api.PostAsync(new Uri($"/api/deadletters/{letter.GetProperty("id").GetString()}/retry", UriKind.Relative), null)).EnsureSuccessStatusCode();

        // The put-back copy is the newest settled record now: the one kept.
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(versions[..1]) && AllDelivered(o), Delivery);
        var retried = stage.Receiver.All.Where(r => r.Answer == ReceiverAnswer.Ok && r.OrderId == OrderId(roomId, versions[0])).Should().ContainSingle().Subject;
        retried.Body.Should().Be(stage.Receiver.All[0].Body, "the retry sends the body the dead letter kept");
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APutBackCopyKeepsTheStatusesItSharesWithItsTrimmedRecordUntilItIsTrimmedToo(bool embedded)
    {
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: Kept(2, maxAttempts: 1));
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        stage.Receiver.Answers = n => n == 0 ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        var first = await stage.SetStateAsync(replica, roomId, "locked");
        await stage.WaitForOrderAsync(replica, roomId, o => StatusesOf(o).SequenceEqual(["dead"]), Delivery);
        var letter = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;
        using var api = stage.Api(replica);
        (await api.PostAsync(new Uri($"/api/deadletters/{letter.GetProperty("id").GetString()}/retry", UriKind.Relative), null)).EnsureSuccessStatusCode();
        await stage.WaitForOrderAsync(replica, roomId, o => StatusesOf(o).SequenceEqual(["delivered"]), Delivery);

        // Settled: the record, its put-back copy and the next record — the record is trimmed, its copy keeps its status.
        var second = await stage.SetStateAsync(replica, roomId, "open");
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual([first, second]) && AllDelivered(o), Delivery);
        if (!embedded)
        {
            await Poll.UntilAsync(async () => (await LengthsAsync(stage, roomId)).Item1 == 2, Delivery, "the record trimmed, its copy kept");
            var order = await stage.GetJsonAsync(replica, $"/api/rooms/{roomId}/order");
            VersionsOf(order).Should().Equal(first, second);
            StatusesOf(order).Should().Equal(["delivered", "delivered"], "the copy shares the trimmed record's status");
        }

        // The copy trimmed as well: the last of the record takes its status with it.
        var third = await stage.SetStateAsync(replica, roomId, "locked");
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual([second, third]) && AllDelivered(o), Delivery);
        if (!embedded)
        {
            (await LengthsAsync(stage, roomId)).Should().Be((2, 2));
            (await stage.Redis!.ExecuteListAsync("HKEYS", $"rs:{{{roomId}}}:deliveries")).Should()
                .BeEquivalentTo([$"{OrderId(roomId, second)} {stage.Receiver.Url}", $"{OrderId(roomId, third)} {stage.Receiver.Url}", "endpoints"]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARetriedDeadLetterOfATrimmedRecordListsThatRecordWithItsOneEndpointAlone(bool embedded)
    {
        // Two endpoints: the first record is delivered to billing (the stage's receiver) and dies at the kitchen.
        const string KitchenSecret = "kitchen-secret-fedcba9876543210";
        await using var kitchen = new WebhookReceiver(KitchenSecret);
        kitchen.Answers = n => n == 0 ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        await kitchen.StartAsync();
        var webhooks = Kept(1, maxAttempts: 1);
        webhooks["RoomServer__Webhooks__Endpoints__1__Url"] = kitchen.Url;
        webhooks["RoomServer__Webhooks__Endpoints__1__Secret"] = KitchenSecret;
        await using var stage = await OrderHandoffStage.StartAsync(embedded: embedded, webhooks: webhooks);
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomWithOrderAsync(replica);
        var versions = await ToggleAsync(stage, replica, roomId, 3);
        await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(versions[^1..]) && EveryDelivered(o), Delivery);

        var letter = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;
        letter.GetProperty("endpoint").GetString().Should().Be(kitchen.Url);
        using var api = stage.Api(replica);
        (await api.PostAsync(new Uri($"/api/deadletters/{letter.GetProperty("id").GetString()}/retry", UriKind.Relative), null)).EnsureSuccessStatusCode();

        // Its copy, for the kitchen alone, is the one settled record kept. Billing's status went with the trimmed record:
        // billing is not listed at all — not_sent there would say the record was never sent to billing.
        var order = await stage.WaitForOrderAsync(replica, roomId, o => VersionsOf(o).SequenceEqual(versions[..1])
            && OrderHandoffStage.Deliveries(o).Any(d => d.GetProperty("endpoint").GetString() == kitchen.Url && d.GetProperty("status").GetString() == "delivered"), Delivery);
        OrderHandoffStage.Deliveries(order).Select(d => d.GetProperty("endpoint").GetString()).Should().Equal(kitchen.Url);
        stage.Receiver.All.Where(r => r.OrderId == OrderId(roomId, versions[0])).Should().ContainSingle("billing had the record once, before the trim");
    }

    private static Dictionary<string, string> Kept(int records, int maxAttempts = 8) => new()
    {
        ["RoomServer__Webhooks__SettledRecordsKept"] = records.ToString(CultureInfo.InvariantCulture),
        ["RoomServer__Webhooks__MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary><paramref name="count"/> transitions, locked and open in turn from <paramref name="from"/>: one order record each.</summary>
    private static async Task<long[]> ToggleAsync(OrderHandoffStage stage, RoomServerProcess replica, string roomId, int count, string from = "open")
    {
        var current = from;
        var versions = new long[count];
        for (var i = 0; i < count; i++)
        {
            current = current == "locked" ? "open" : "locked";
            versions[i] = await stage.SetStateAsync(replica, roomId, current);
        }

        return versions;
    }

    private static string OrderId(string roomId, long version) => roomId + ":" + version.ToString(CultureInfo.InvariantCulture);

    private static List<long> VersionsOf(JsonElement order) =>
        [.. order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("version").GetInt64())];

    /// <summary>The one endpoint's status per record, oldest first.</summary>
    private static List<string?> StatusesOf(JsonElement order) =>
        [.. order.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("deliveries").EnumerateArray().Single().GetProperty("status").GetString())];

    /// <summary>Every listed delivery of every record delivered (any number of endpoints).</summary>
    private static bool EveryDelivered(JsonElement order) => OrderHandoffStage.Deliveries(order).All(d => d.GetProperty("status").GetString() == "delivered");

    private static bool AllDelivered(JsonElement order) => StatusesOf(order).All(s => s == "delivered");

    /// <summary>Entries in the room's outbox stream and fields in its status hash, less its one list of endpoints (outbox_status.lua).</summary>
    private static async Task<(long, long)> LengthsAsync(OrderHandoffStage stage, string roomId) => (
        long.Parse((await stage.Redis!.ExecuteAsync("XLEN", $"rs:{{{roomId}}}:orders"))!, CultureInfo.InvariantCulture),
        long.Parse((await stage.Redis!.ExecuteAsync("HLEN", $"rs:{{{roomId}}}:deliveries"))!, CultureInfo.InvariantCulture)
            - long.Parse((await stage.Redis!.ExecuteAsync("HEXISTS", $"rs:{{{roomId}}}:deliveries", "endpoints"))!, CultureInfo.InvariantCulture));
}
