using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's rooms per API key: one sorted set per key (<see cref="RedisKeys.ApiKeyRooms"/>, room id
/// → expiry), changed only by Scripts/key_rooms.lua. Before a reservation, rooms whose recorded expiry
/// has passed are looked up one by one (each on its own room's slot): still there → re-scored with
/// their TTL (use keeps a room alive); gone → released. At most <see cref="PrunePerCreate"/> per create,
/// so a create costs a bounded number of calls; what is left stays counted, so a key is never let past
/// its limit, only held back until the next creates prune further.
/// </summary>
public sealed class RedisRoomsPerApiKey(RedisConnection redis, TimeProvider time) : IRoomsPerApiKey
{
    private const int PrunePerCreate = 50;

    private static readonly RedisScript KeyRooms = RedisScripts.Standalone("key_rooms");
    private static readonly RedisScript RoomTtl = new("room_ttl", "return redis.call('PTTL', KEYS[1])");

    public async Task<bool> TryReserveAsync(string keyId, string roomId, DateTimeOffset expiresAt, int max, CancellationToken cancellationToken)
    {
        var key = RedisKeys.ApiKeyRooms(keyId);
        var now = time.GetUtcNow();
        var stale = (RedisResult[])(await redis.EvaluateAsync(KeyRooms, [key], ["stale", now.ToUnixTimeMilliseconds(), PrunePerCreate]))!;
        foreach (var staleRoom in stale.Select(r => (string)r!))
        {
            var ttl = RoomIds.IsValidRoomId(staleRoom)
                ? (long)await redis.EvaluateAsync(RoomTtl, [RedisKeys.Meta(staleRoom)], [])
                : -2;
            // Released only if still stale: a keyed retry may have reserved and made the room since its TTL was read.
            RedisValue[] args = ttl > 0
                ? ["keep", staleRoom, now.ToUnixTimeMilliseconds() + ttl]
                : ["release", staleRoom, now.ToUnixTimeMilliseconds()];
            await redis.EvaluateAsync(KeyRooms, [key], args);
        }

        // Confirmed where writes are (DESIGN.md §2): the room's own create is confirmed on its slot, which is not this
        // one, and a place a failover lost would let the key past its limit, the room uncounted for its whole life.
        var reply = (RedisResult[])(await redis.EvaluateConfirmedAsync(KeyRooms, [key], ["reserve", roomId, expiresAt.ToUnixTimeMilliseconds(), max], Recorded))!;
        return (string?)reply[0] == "ok";
    }

    public Task HoldAsync(string keyId, string roomId, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        redis.EvaluateConfirmedAsync(KeyRooms, [RedisKeys.ApiKeyRooms(keyId)], ["hold", roomId, expiresAt.ToUnixTimeMilliseconds()], Recorded);

    /// <summary>A place was recorded ('full' wrote nothing: refusing on a place not yet confirmed only holds the key back).</summary>
    private static bool Recorded(RedisResult result) => (string?)((RedisResult[])result!)[0] == "ok";

    public Task ReleaseAsync(string keyId, string roomId, CancellationToken cancellationToken) =>
        redis.EvaluateAsync(KeyRooms, [RedisKeys.ApiKeyRooms(keyId)], ["release", roomId]);
}
