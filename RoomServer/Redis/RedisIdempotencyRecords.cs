using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's <see cref="IIdempotencyRecords"/>: one string key per record on the API key's slot
/// (<see cref="RedisKeys.IdempotencyRecord"/>), changed only by Scripts/idem_claim.lua and confirmed like a
/// room's write (a failover must not forget a key whose write it answered).
/// </summary>
public sealed class RedisIdempotencyRecords(RedisConnection redis, IOptions<RoomServerOptions> options) : IIdempotencyRecords
{
    private static readonly RedisScript Claim = RedisScripts.Standalone("idem_claim");

    public async Task<IdempotencyRecord> ClaimAsync(IdempotencyScope scope, IdempotencyKey key, string value, string? replacing, CancellationToken cancellationToken)
    {
        RedisValue[] args = [key.RequestHash, value, replacing ?? "", (long)options.Value.IdempotencyKeyWindow.TotalSeconds];
        // Every claim writes (a hit rewrites the record it found), so every claim is confirmed.
        var reply = (RedisResult[])(await redis.EvaluateConfirmedAsync(Claim, [RedisKeys.IdempotencyRecord(scope, key)], args, _ => true))!;
        return new IdempotencyRecord((string)reply[0]!, (string)reply[1]!);
    }
}
