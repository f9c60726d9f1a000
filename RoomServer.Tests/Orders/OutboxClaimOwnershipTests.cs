using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// outbox_keep.lua, outbox_settle.lua and outbox_status.lua against a real redis-server: a consumer whose claim on a
/// record lapsed and was taken over can neither take it back by renewing (XCLAIM would, whatever the owner), nor
/// settle (XACK) it, nor write its statuses — the record stays the new holder's (DESIGN.md §8: one replica handles a
/// record at a time).
/// </summary>
[Trait("Suite", "Orders")]
public sealed class OutboxClaimOwnershipTests
{
    [Fact]
    public async Task OnlyTheConsumerHoldingARecordRenewsOrSettlesIt()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = connection.GetDatabase();
        var orders = RedisKeys.Orders("r1");
        RedisKey[] settleKeys = [orders, RedisKeys.OrderDeliveries("r1"), RedisKeys.Meta("r1")];
        await db.StreamCreateConsumerGroupAsync(orders, RedisOrderOutbox.Group, StreamPosition.Beginning, createStream: true);
        var id = (string)(await db.StreamAddAsync(orders, "orderId", "r1:1"))!;
        (await db.StreamReadGroupAsync(orders, RedisOrderOutbox.Group, "a", ">", 1)).Should().ContainSingle();

        // a's claim lapsed; b takes the record over (as outbox_claim.lua's XAUTOCLAIM does).
        (await db.StreamClaimIdsOnlyAsync(orders, RedisOrderOutbox.Group, "b", 0, [id])).Should().ContainSingle();

        (await KeepAsync(db, orders, "a", id)).Should().Be(0, "a no longer holds it");
        (await HolderAsync(db, orders, id)).Should().Be("b", "a's renewal did not take it back");
        ((string?)((RedisResult[])(await OutboxScripts.Settle.EvaluateAsync(db, settleKeys, [RedisOrderOutbox.Group, id, 60, "a", 100, "copies:", "endpoints"]))!)[0]).Should().Be("lost");
        (await HolderAsync(db, orders, id)).Should().Be("b", "a's settle acknowledged nothing");

        (await KeepAsync(db, orders, "b", id)).Should().Be(1, "b holds it");
        ((string?)((RedisResult[])(await OutboxScripts.Settle.EvaluateAsync(db, settleKeys, [RedisOrderOutbox.Group, id, 60, "b", 100, "copies:", "endpoints"]))!)[0]).Should().Be("settled");
        (await db.StreamPendingAsync(orders, RedisOrderOutbox.Group)).PendingMessageCount.Should().Be(0);
        (await KeepAsync(db, orders, "b", id)).Should().Be(0, "a settled record is no one's");
    }

    [Fact]
    public async Task OnlyTheConsumerHoldingARecordWritesItsStatuses()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "a");
        var outbox = RedisDeadLetters.Outbox(standalone);
        var db = standalone.Connection.Connection.GetDatabase();
        var orders = RedisKeys.Orders("r1");
        await db.StreamCreateConsumerGroupAsync(orders, RedisOrderOutbox.Group, StreamPosition.Beginning, createStream: true);
        var id = (string)(await db.StreamAddAsync(orders, "orderId", "r1:1"))!;
        (await db.StreamReadGroupAsync(orders, RedisOrderOutbox.Group, "a", ">", 1)).Should().ContainSingle();
        var entry = new OutboxEntry("r1", id, "r1:1", "order.submitted", 1, "t", "{}", null, new Dictionary<string, EndpointDelivery>());
        const string Endpoint = "http://127.0.0.1:9/orders";

        (await outbox.SetDeliveryAsync(entry, "a", Endpoint, new EndpointDelivery(DeliveryStatuses.Pending, 1, "HTTP 500"))).Should().BeTrue("a holds it");

        // a's claim lapsed; b takes the record over and delivers it. a, not knowing yet, fails its next attempt.
        (await db.StreamClaimIdsOnlyAsync(orders, RedisOrderOutbox.Group, "b", 0, [id])).Should().ContainSingle();
        (await outbox.SetDeliveryAsync(entry, "b", Endpoint, new EndpointDelivery(DeliveryStatuses.Delivered, 2, null))).Should().BeTrue("b holds it");
        (await outbox.SetDeliveryAsync(entry, "a", Endpoint, new EndpointDelivery(DeliveryStatuses.Pending, 2, "HTTP 500"))).Should().BeFalse("a no longer holds it");
        (await outbox.RecordsAsync("r1")).Single().Deliveries[Endpoint].Status.Should().Be(DeliveryStatuses.Delivered, "b's status stands");
    }

    private static async Task<long> KeepAsync(IDatabase db, RedisKey orders, string consumer, string id) =>
        (long)(await OutboxScripts.Keep.EvaluateAsync(db, [orders], [RedisOrderOutbox.Group, consumer, id]))!;

    private static async Task<string> HolderAsync(IDatabase db, RedisKey orders, string id) =>
        (string)(await db.StreamPendingMessagesAsync(orders, RedisOrderOutbox.Group, 1, RedisValue.Null, id, id)).Single().ConsumerName!;
}
