using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>What the tests of scaled mode's dead letters against a real redis-server share: the outbox, a letter, a script's reply.</summary>
internal static class RedisDeadLetters
{
    public const string Endpoint = "http://127.0.0.1:9/orders";

    public static RedisOrderOutbox Outbox(StandaloneRedisConnection standalone, RoomServerOptions? options = null) =>
        standalone.OrderOutbox(Options.Create(options ?? new RoomServerOptions()));

    /// <summary>A dead letter of the room's version 3 for <see cref="Endpoint"/>, after eight failed attempts.</summary>
    public static DeadLetter Letter(string roomId) =>
        new("", roomId + ":3", roomId, "order.submitted", 3, "2026-12-01T00:00:00Z", Endpoint, 8, "HTTP 500", "2026-12-01T00:01:00Z", "{\"roomId\":\"" + roomId + "\"}");

    /// <summary>The first element of an outbox script's reply ('ok', 'again', 'retried', ...).</summary>
    public static string? Reply(RedisResult result) => (string?)((RedisResult[])result!)[0];
}
