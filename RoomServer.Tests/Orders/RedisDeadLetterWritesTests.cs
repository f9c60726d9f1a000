using System.Globalization;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

using static RoomShare.RoomServer.Tests.Orders.RedisDeadLetters;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Scaled mode's dead letters against a real redis-server (DESIGN.md §8): a dead letter retried twice at once
/// goes back into its room's outbox once, and where writes are confirmed (§2, <c>ReplicasToAcknowledge</c>) a
/// dead letter and a retry's put-back count only once a Redis replica holds them — the record is settled,
/// or the dead letter removed, right after, so a failover could otherwise lose the delivery.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RedisDeadLetterWritesTests
{

    [Fact]
    public async Task ADeadLetterRetriedTwiceAtOnceIsPutBackOnce()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "d1");
        var outbox = Outbox(standalone);

        // Twenty rooms, each with a dead letter that two operators retry at the same moment.
        var letters = new List<DeadLetter>();
        for (var i = 0; i < 20; i++)
        {
            await outbox.DeadLetterAsync(Letter("room" + i.ToString(CultureInfo.InvariantCulture)));
        }

        letters.AddRange(await outbox.DeadLettersAsync(null, 100));
        letters.Should().HaveCount(20);
        var retries = letters.SelectMany(l => new[] { outbox.RetryAsync(l.Id), outbox.RetryAsync(l.Id) });
        var answers = await Task.WhenAll(retries);

        answers.Where(a => a is not null).Should().HaveCountGreaterThanOrEqualTo(20, "every letter was retried by at least one of its two calls");
        var db = standalone.Connection.Connection.GetDatabase();
        foreach (var letter in letters)
        {
            (await db.StreamLengthAsync(RedisKeys.Orders(letter.RoomId))).Should().Be(1, $"{letter.RoomId}'s dead letter went back into its outbox once");
        }

        (await outbox.DeadLettersAsync(null, 100)).Should().BeEmpty("each retried letter was removed");
    }

    [Fact]
    public async Task ARetryOfADeadLetterAlreadyPutBackChangesNothing()
    {
        // The moment two retries race for, made certain: the script runs for a letter already put back.
        await using var redis = await RedisServerProcess.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = connection.GetDatabase();
        RedisKey[] keys = [RedisKeys.Orders("r1"), RedisKeys.OrderDeliveries("r1"), RedisKeys.Requeued("r1"), RedisKeys.Discarded("r1")];
        RedisValue[] args = [RedisOrderOutbox.Group, "r1:3", "order.submitted", 3, "2026-12-01T00:00:00Z", "{}", Endpoint, "r1:3 " + Endpoint, "{\"status\":\"pending\"}", "1764547200000-0", 86400, "copies:r1:3"];

        Reply(await OutboxScripts.Requeue.EvaluateAsync(db, keys, args)).Should().Be("ok");
        await db.HashSetAsync(RedisKeys.OrderDeliveries("r1"), "r1:3 " + Endpoint, "{\"status\":\"delivered\"}");
        Reply(await OutboxScripts.Requeue.EvaluateAsync(db, keys, args)).Should().Be("again");

        (await db.StreamLengthAsync(RedisKeys.Orders("r1"))).Should().Be(1, "the second call added no record");
        ((string?)await db.HashGetAsync(RedisKeys.OrderDeliveries("r1"), "r1:3 " + Endpoint)).Should().Contain("delivered", "nor set the status back to pending");
        (await db.KeyTimeToLiveAsync(RedisKeys.Requeued("r1"))).Should().NotBeNull("what was put back is remembered for a while, not for ever");

        // Another dead letter of the same record (a later death of its retry) is a letter of its own.
        Reply(await OutboxScripts.Requeue.EvaluateAsync(db, keys, [.. args[..9], "1764547300000-0", 86400, "copies:r1:3"])).Should().Be("ok");
        (await db.StreamLengthAsync(RedisKeys.Orders("r1"))).Should().Be(2);
    }

    [Fact]
    public async Task AnUnreadableRecordsDeadLetterRetriedAgainIsRestoredOnce()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = connection.GetDatabase();
        RedisKey[] keys = [RedisKeys.Orders("r1"), RedisKeys.OrderDeliveries("r1"), RedisKeys.Requeued("r1"), RedisKeys.Discarded("r1")];
        RedisValue[] args = [RedisOrderOutbox.Group, "r1:3 " + Endpoint, "{\"status\":\"pending\"}", "1764547200000-0", 86400, "copies:r1:3", "orderId", "r1:3", "endpoint", Endpoint, "type", "order.future"];

        Reply(await OutboxScripts.Restore.EvaluateAsync(db, keys, args)).Should().Be("ok");
        Reply(await OutboxScripts.Restore.EvaluateAsync(db, keys, args)).Should().Be("again");

        var stored = (await db.StreamRangeAsync(RedisKeys.Orders("r1"))).Should().ContainSingle("restored once").Subject;
        stored.Values.Select(v => ((string)v.Name!, (string)v.Value!)).Should().Equal([("orderId", "r1:3"), ("endpoint", Endpoint), ("type", "order.future")], "as it was stored");
    }

    [Fact]
    public async Task WhereWritesAreConfirmedADeadLetterAndARetryCountOnlyOnceAReplicaHoldsThem()
    {
        await using var master = await RedisServerProcess.StartAsync();
        var replica = await RedisServerProcess.StartAsync();
        var replicaStopped = false;
        try
        {
            await replica.ReplicateAsync(master);
            var options = new RoomServerOptions { Redis = new RedisOptions { ReplicasToAcknowledge = 1 } };
            await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, "d1", options);
            var outbox = Outbox(standalone, options);

            await outbox.DeadLetterAsync(Letter("held"));
            var held = (await outbox.DeadLettersAsync(null, 10)).Should().ContainSingle().Subject;

            replicaStopped = true;
            await replica.DisposeAsync();

            var unconfirmed = async () => await outbox.DeadLetterAsync(Letter("unheld"));
            (await unconfirmed.Should().ThrowAsync<RoomException>("no replica confirmed the dead letter, so its record must not be settled"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);

            var retry = async () => await outbox.RetryAsync(held.Id);
            (await retry.Should().ThrowAsync<RoomException>("no replica confirmed the put-back"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            (await outbox.DeadLettersAsync(null, 10)).Select(d => d.Id).Should().Contain(held.Id, "a dead letter whose put-back is unconfirmed stays, to be retried again");

            // Retried again: it was put back already ('again'), and that put-back is still unconfirmed.
            (await retry.Should().ThrowAsync<RoomException>("the earlier put-back is confirmed before the dead letter goes"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            (await outbox.DeadLettersAsync(null, 10)).Select(d => d.Id).Should().Contain(held.Id, "it stays until a replica holds its put-back");
            (await standalone.Connection.Connection.GetDatabase().StreamLengthAsync(RedisKeys.Orders("held"))).Should().Be(1, "put back once");
        }
        finally
        {
            if (!replicaStopped)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
