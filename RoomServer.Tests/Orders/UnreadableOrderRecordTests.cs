using System.Net;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// An order record a replica cannot read (a damaged stream entry, or a newer RoomShare's during a
/// rolling upgrade; DESIGN.md §8) must not hold up its room's later records, and must not be lost: it
/// becomes a dead letter for each endpoint, and a retry puts the record back exactly as it was stored.
/// Real replica, real redis-server, a real HTTP receiver; the bad record is written straight into the
/// room's outbox stream.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class UnreadableOrderRecordTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AnUnreadableRecordIsDeadLetteredAndTheRoomsLaterRecordsStillGo()
    {
        await using var stage = await OrderHandoffStage.StartAsync();
        var replica = stage.Replicas[0];
        var roomId = await stage.CreateRoomAsync(replica);
        await stage.SetStateAsync(replica, roomId, "locked");
        (await stage.Receiver.NextAsync(Delivery)).Type.Should().Be("order.submitted");
        await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).All(d => d.GetProperty("status").GetString() == "delivered"), Delivery);

        // Its room's JSON is cut short, and its version is not a number.
        var damaged = $"{roomId}:damaged";
        await stage.Redis!.ExecuteAsync("XADD", $"rs:{{{roomId}}}:orders", "*",
            "orderId", damaged, "type", "order.reopened", "version", "v?", "at", "2026-12-01T00:00:00.000Z", "by", "api", "room", "{\"epoch\":\"e");
        var reopened = await stage.SetStateAsync(replica, roomId, "open");

        var next = await stage.Receiver.NextAsync(Delivery);
        (next.Type, next.Version).Should().Be(("order.reopened", reopened), "the record after the unreadable one is delivered");
        next.OrderId.Should().NotBe(damaged);

        var letter = (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().Should().ContainSingle().Subject;
        letter.GetProperty("orderId").GetString().Should().Be(damaged);
        letter.GetProperty("roomId").GetString().Should().Be(roomId);
        letter.GetProperty("type").GetString().Should().Be("order.reopened");
        letter.GetProperty("endpoint").GetString().Should().Be(stage.Receiver.Url);
        letter.GetProperty("attempts").GetInt32().Should().Be(0, "it was never sent");
        letter.GetProperty("lastError").GetString().Should().StartWith("unreadable record: ");

        // The operator view lists it (it does not fail on it), dead, beside the delivered ones.
        var order = await stage.WaitForOrderAsync(replica, roomId, o => OrderHandoffStage.Deliveries(o).Count(d => d.GetProperty("status").GetString() == "delivered") == 2, Delivery);
        var records = order.GetProperty("records").EnumerateArray().ToList();
        records.Select(r => r.GetProperty("orderId").GetString()).Should().Contain(damaged).And.HaveCount(3);
        var status = records.Single(r => r.GetProperty("orderId").GetString() == damaged).GetProperty("deliveries").EnumerateArray().Should().ContainSingle().Subject;
        status.GetProperty("status").GetString().Should().Be("dead");
        status.GetProperty("lastError").GetString().Should().StartWith("unreadable record: ");

        // Retried, it goes back as it was stored (for that endpoint); still unreadable here, it is dead-lettered again.
        using var api = stage.Api(replica);
        var retry = await api.PostAsync(new Uri($"/api/deadletters/{letter.GetProperty("id").GetString()}/retry", UriKind.Relative), null);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var again = await Poll.ForAsync(
            async () => (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").EnumerateArray().ToList(),
            items => items.Count == 1 && items[0].GetProperty("id").GetString() != letter.GetProperty("id").GetString(),
            Delivery,
            items => $"dead letters after the retry: {items.Count}");
        again[0].GetProperty("orderId").GetString().Should().Be(damaged);
        var restored = await StoredRecordsAsync(stage.Redis!, roomId);
        restored[^1].Should().Equal(
            ("orderId", damaged), ("type", "order.reopened"), ("version", "v?"), ("at", "2026-12-01T00:00:00.000Z"), ("by", "api"),
            ("room", "{\"epoch\":\"e"), ("endpoint", stage.Receiver.Url));
        stage.Receiver.All.Select(r => r.Type).Should().Equal("order.submitted", "order.reopened");

        // And the room still goes on.
        await stage.SetStateAsync(replica, roomId, "closed");
        (await stage.Receiver.NextAsync(Delivery)).Type.Should().Be("order.closed");
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

        // A dead letter as a replica that could not read this record would have written it (the record,
        // as stored, in its body): after an upgrade every replica reads it, and the retry delivers it.
        var stored = (await StoredRecordsAsync(stage.Redis!, roomId)).Single();
        var fields = stored.ToDictionary(f => f.Field, f => f.Value);
        var letterId = await stage.Redis!.ExecuteAsync("XADD", "rs:orders:deadletters", "*",
            "orderId", fields["orderId"], "roomId", roomId, "type", fields["type"], "version", fields["version"], "at", fields["at"],
            "endpoint", stage.Receiver.Url, "attempts", "0", "lastError", "unreadable record: written by a newer RoomShare",
            "deadAt", "2026-12-01T00:00:00.000Z", "body", JsonSerializer.Serialize(fields), "unreadable", "1");

        using var api = stage.Api(replica);
        var retry = await api.PostAsync(new Uri($"/api/deadletters/{letterId}/retry", UriKind.Relative), null);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var redelivered = await stage.Receiver.NextAsync(Delivery);
        redelivered.SignatureValid.Should().BeTrue();
        (redelivered.OrderId, redelivered.Body).Should().Be((original.OrderId, original.Body), "the same stored fields make the same body");
        (await stage.GetJsonAsync(replica, "/api/deadletters")).GetProperty("items").GetArrayLength().Should().Be(0);
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
