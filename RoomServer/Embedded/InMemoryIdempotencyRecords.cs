using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>Embedded mode's <see cref="IIdempotencyRecords"/>: Redis/RedisIdempotencyRecords in memory, bounded (<see cref="ExpiringRecords{TValue}"/>).</summary>
public sealed class InMemoryIdempotencyRecords(IOptions<RoomServerOptions> options, TimeProvider time) : IIdempotencyRecords
{
    private readonly ExpiringRecords<IdempotencyRecord> _records = new(time);

    public Task<IdempotencyRecord> ClaimAsync(IdempotencyScope scope, IdempotencyKey key, string value, string? replacing, CancellationToken cancellationToken)
    {
        var mine = new IdempotencyRecord(key.RequestHash, value);
        return Task.FromResult(_records.GetOrAdd(
            $"{scope}\n{key.CallerId}\n{key.Key}",
            mine,
            options.Value.IdempotencyKeyWindow,
            prior => prior.RequestHash == key.RequestHash && replacing is not null && prior.Value == replacing ? mine : prior));
    }
}
