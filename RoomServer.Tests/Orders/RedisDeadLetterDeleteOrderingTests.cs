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
/// Scaled mode's delete of a dead letter against a real redis-server (DESIGN.md §8). The dead-letter stream and the
/// room's outbox live in different slots, so a delete and a retry of one letter at once are decided by a mark in the
/// room's slot (outbox_discard.lua beside outbox_requeue.lua): whichever script runs first has its effect. The moments
/// a race would have to hit are made certain here by running one side's script directly; and where writes are
/// confirmed (§2) a delete counts only once a Redis replica holds its mark.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RedisDeadLetterDeleteOrderingTests
{
    private const long Remembered = 86400;

    [Fact]
    public async Task TheRoomsMarkDecidesBetweenADeleteAndARetryWhicheverScriptRunsFirst()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        var db = connection.GetDatabase();

        // Deleted first: a retry's script then puts nothing back.
        Reply(await Discard(db, "r1", "1764547200000-0")).Should().Be("ok");
        Reply(await Discard(db, "r1", "1764547200000-0")).Should().Be("again", "two deletes at once both find it");
        Reply(await Requeue(db, "r1", "1764547200000-0")).Should().Be("discarded");
        (await db.KeyExistsAsync(RedisKeys.Orders("r1"))).Should().BeFalse("nothing was put back");
        (await db.KeyTimeToLiveAsync(RedisKeys.Discarded("r1"))).Should().NotBeNull("a delete is remembered for a while, not for ever");

        // Retried first: a delete's script then leaves the letter to the retry.
        Reply(await Requeue(db, "r2", "1764547300000-0")).Should().Be("ok");
        Reply(await Discard(db, "r2", "1764547300000-0")).Should().Be("retried");
        (await db.SetContainsAsync(RedisKeys.Discarded("r2"), "1764547300000-0")).Should().BeFalse("the letter is not marked deleted");
        (await db.StreamLengthAsync(RedisKeys.Orders("r2"))).Should().Be(1, "put back once");
    }

    [Fact]
    public async Task ARetryThatReadTheLetterBeforeADeleteDecidedPutsNothingBackAndAnswersThereIsNone()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "d1");
        var outbox = Outbox(standalone);
        var db = standalone.Connection.Connection.GetDatabase();
        await outbox.DeadLetterAsync(Letter("r1"));
        var letter = (await outbox.DeadLettersAsync(null, 10)).Should().ContainSingle().Subject;

        // The delete's decision, before it removes the letter from the stream: a retry that read the letter still finds it.
        Reply(await Discard(db, "r1", letter.Id)).Should().Be("ok");
        (await outbox.RetryAsync(letter.Id)).Should().BeNull("the delete came first: there is no such letter to retry");

        (await db.KeyExistsAsync(RedisKeys.Orders("r1"))).Should().BeFalse("nothing was put back");
        (await outbox.DeadLettersAsync(null, 10)).Should().BeEmpty("the retry finished the delete's removal");
        (await outbox.DeleteDeadLetterAsync(letter.Id)).Should().BeFalse("it is gone");
    }

    [Fact]
    public async Task ADeleteThatReadTheLetterBeforeARetryRemovedItLosesAndTheLetterStaysPutBackOnce()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "d1");
        var outbox = Outbox(standalone);
        var db = standalone.Connection.Connection.GetDatabase();
        await outbox.DeadLetterAsync(Letter("r1"));
        var letter = (await outbox.DeadLettersAsync(null, 10)).Should().ContainSingle().Subject;

        // A retry's put-back, before it removes the letter from the stream (or one that stopped there).
        Reply(await Requeue(db, "r1", letter.Id)).Should().Be("ok");
        (await outbox.DeleteDeadLetterAsync(letter.Id)).Should().BeFalse("the retry came first: the delete answers there is no such letter");

        (await db.StreamLengthAsync(RedisKeys.Orders("r1"))).Should().Be(1, "the record stays put back, once");
        (await outbox.DeadLettersAsync(null, 10)).Should().BeEmpty("the letter that was put back is not listed any more");
        (await outbox.RetryAsync(letter.Id)).Should().BeNull();
        (await db.StreamLengthAsync(RedisKeys.Orders("r1"))).Should().Be(1);
    }

    [Fact]
    public async Task WhereWritesAreConfirmedADeleteCountsOnlyOnceAReplicaHoldsIt()
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

            var delete = async () => await outbox.DeleteDeadLetterAsync(held.Id);
            (await delete.Should().ThrowAsync<RoomException>("no replica confirmed the delete"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            (await outbox.DeadLettersAsync(null, 10)).Select(d => d.Id).Should().Contain(held.Id, "an unconfirmed delete leaves the letter listed");

            var retry = async () => await outbox.RetryAsync(held.Id);
            (await retry.Should().ThrowAsync<RoomException>("nor is a retry confirmed, whichever it finds"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
            (await outbox.DeadLettersAsync(null, 10)).Select(d => d.Id).Should().Contain(held.Id);
        }
        finally
        {
            if (!replicaStopped)
            {
                await replica.DisposeAsync();
            }
        }
    }

    private static Task<RedisResult> Discard(IDatabase db, string roomId, string id) =>
        OutboxScripts.Discard.EvaluateAsync(db, [RedisKeys.Requeued(roomId), RedisKeys.Discarded(roomId)], [id, Remembered]);

    private static Task<RedisResult> Requeue(IDatabase db, string roomId, string id) =>
        OutboxScripts.Requeue.EvaluateAsync(
            db,
            [RedisKeys.Orders(roomId), RedisKeys.OrderDeliveries(roomId), RedisKeys.Requeued(roomId), RedisKeys.Discarded(roomId)],
            [RedisOrderOutbox.Group, roomId + ":3", "order.submitted", 3, "2026-12-01T00:00:00Z", "{}", Endpoint, roomId + ":3 " + Endpoint, "{\"status\":\"pending\"}", id, Remembered, "copies:" + roomId + ":3"]);
}
