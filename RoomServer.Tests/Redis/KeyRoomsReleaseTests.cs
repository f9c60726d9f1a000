using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Scaled mode's guard for the race <c>Units/RoomsPerApiKeyPruneTests</c> forces in embedded mode: the prune forgets a
/// room it found gone only while the room's recorded expiry is still at or before the prune's now (key_rooms.lua
/// <c>release</c> with a now). A deletion forgets it whatever its expiry (no now).
/// </summary>
public sealed class KeyRoomsReleaseTests
{
    private static readonly RedisScript KeyRooms = RedisScripts.Standalone("key_rooms");

    [Fact]
    public async Task APruneForgetsAGoneRoomOnlyWhileItIsStillStaleAndADeletionAlways()
    {
        await using var redisServer = await RedisServerProcess.StartAsync();
        await using var redis = await StandaloneRedisConnection.StartAsync(redisServer.Endpoint, "key-rooms");
        var key = RedisKeys.ApiKeyRooms("0a1b2c3d4e5f6071");
        const long PruneNow = 2_000;

        await Call(key, "reserve", "room-R", 1_000, 5);      // stale at the prune's now
        await Call(key, "reserve", "room-R", 9_000_000, 5);  // re-dated by a keyed retry meanwhile
        await Call(key, "release", "room-R", PruneNow);
        (await Expiry(key, "room-R")).Should().Be("9000000", "a room re-dated since the prune looked keeps its place");

        await Call(key, "release", "room-R", 9_000_000);
        (await Expiry(key, "room-R")).Should().BeNull("a room still stale at the prune's now is forgotten");

        await Call(key, "reserve", "room-S", 9_000_000, 5);
        await Call(key, "release", "room-S");
        (await Expiry(key, "room-S")).Should().BeNull("a deletion forgets the room whatever its expiry");

        Task<RedisResult> Call(RedisKey k, params RedisValue[] args) => redis.Connection.EvaluateAsync(KeyRooms, [k], args);

        Task<string?> Expiry(RedisKey k, string roomId) => redisServer.ExecuteAsync("ZSCORE", k.ToString(), roomId);
    }
}
