using System.Globalization;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Scaled mode's outbox sweep against a real redis-server (DESIGN.md §8): it indexes what it finds in
/// batches (one ZADD NX per 500 outboxes), so an outbox on either side of a batch's edge, and the last
/// partial batch, must all reach the index — and an outbox already indexed keeps its mark.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RedisOutboxSweepTests
{
    [Fact]
    public async Task EveryOutboxFoundIsIndexedAcrossBatchEdgesAndAnIndexedRoomKeepsItsMark()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "s1");
        var outbox = standalone.OrderOutbox(Options.Create(new RoomServerOptions()));
        var db = standalone.Connection.Connection.GetDatabase();

        // 1 001 outboxes: two full batches and one left over. One of them is already indexed with an old mark.
        const int rooms = 1_001;
        var writes = Enumerable.Range(0, rooms)
            .Select(i => db.StreamAddAsync(RedisKeys.Orders(RoomId(i)), "body", "{}"))
            .ToList();
        await Task.WhenAll(writes);
        await db.SortedSetAddAsync(RedisKeys.OrderRooms, RoomId(7), 5);
        // A key that matches the pattern but names no valid room is left out of the index.
        await db.StreamAddAsync("rs:{not a room!}:orders", "body", "{}");

        await outbox.SweepAsync(CancellationToken.None);

        var indexed = await db.SortedSetRangeByRankWithScoresAsync(RedisKeys.OrderRooms);
        indexed.Select(e => (string)e.Element!).Should().BeEquivalentTo(Enumerable.Range(0, rooms).Select(RoomId));
        indexed.Single(e => e.Element == RoomId(7)).Score.Should().Be(5, "NX: a room already indexed keeps its mark");
    }

    private static string RoomId(int i) => "sweep" + i.ToString(CultureInfo.InvariantCulture);
}
