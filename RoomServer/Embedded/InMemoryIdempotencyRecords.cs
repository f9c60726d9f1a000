using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded mode's <see cref="IIdempotencyRecords"/>: Redis/RedisIdempotencyRecords in memory, bounded
/// (<see cref="ExpiringRecords{TValue}"/>) — one store per kind, so that a flood of one kind's keys never
/// pushes out the other's records (DESIGN §4: at most <see cref="ExpiringRecords{TValue}.Capacity"/> of each).
/// </summary>
public sealed class InMemoryIdempotencyRecords(IOptions<RoomServerOptions> options, TimeProvider time) : IIdempotencyRecords
{
    private readonly ExpiringRecords<IdempotencyRecord> _rooms = new(time);
    private readonly ExpiringRecords<IdempotencyRecord> _announcements = new(time);

    public Task<IdempotencyRecord> ClaimAsync(IdempotencyScope scope, IdempotencyKey key, string value, string? replacing, CancellationToken cancellationToken)
    {
        var mine = new IdempotencyRecord(key.RequestHash, value);
        var records = scope == IdempotencyScope.Rooms ? _rooms : _announcements;
        return Task.FromResult(records.GetOrAdd(
            $"{key.CallerId}\n{key.Key}",
            mine,
            options.Value.IdempotencyKeyWindow,
            prior => prior.RequestHash == key.RequestHash && replacing is not null && prior.Value == replacing ? mine : prior));
    }
}
