using System.Globalization;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Runs one of the room's scripts exactly as a replica would, in one MULTI right after Redis dropped
/// every subscriber: what it publishes reaches nobody — the message pub/sub loses in an outage.
/// </summary>
internal static class DeafRoomScripts
{
    /// <summary><paramref name="args"/>: the script's own ARGV after the three every script takes (prelude.lua).</summary>
    public static async Task RunAsync(RedisServerProcess redis, RedisScript script, string roomId, params RedisValue[] args)
    {
        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",allowAdmin=true");
        var transaction = direct.GetDatabase().CreateTransaction();
        _ = transaction.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var run = transaction.ScriptEvaluateAsync(script.Text, RedisKeys.ForRoom(roomId),
            ["PUBLISH rs:{" + roomId + "}:events", ContractServer.HistoryLength, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), .. args]);
        (await transaction.ExecuteAsync()).Should().BeTrue();
        ((string?)((RedisResult[])(await run)!)[0]).Should().Be("ok");
    }
}
