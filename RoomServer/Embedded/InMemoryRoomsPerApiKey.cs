using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded mode's rooms per API key: a room id → expiry map per key, under one lock. A room past its
/// recorded expiry is asked for: still there (its TTL moved on with use) → kept a while longer; gone →
/// forgotten. Mirrors <c>Redis/RedisRoomsPerApiKey</c>.
/// </summary>
public sealed class InMemoryRoomsPerApiKey(IRoomStore store, TimeProvider time) : IRoomsPerApiKey
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _rooms = new(StringComparer.Ordinal);

    public async Task<bool> TryReserveAsync(string keyId, string roomId, DateTimeOffset expiresAt, int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<string> stale;
        lock (_rooms)
        {
            stale = [.. RoomsOf(keyId).Where(r => r.Value <= now).Select(r => r.Key)];
        }

        var gone = new List<string>();
        foreach (var room in stale)
        {
            if (!await store.ExistsAsync(room, cancellationToken))
            {
                gone.Add(room);
            }
        }

        lock (_rooms)
        {
            var rooms = RoomsOf(keyId);
            foreach (var room in stale)
            {
                // Only while still stale: a keyed retry may have reserved and made the room since it was asked for.
                if (!rooms.TryGetValue(room, out var until) || until > now)
                {
                    continue;
                }

                if (gone.Contains(room))
                {
                    rooms.Remove(room);
                }
                else
                {
                    rooms[room] = now + Recheck;
                }
            }

            // A room held already (a retried create under an Idempotency-Key) is re-dated, never counted twice.
            if (!rooms.ContainsKey(roomId) && rooms.Count >= max)
            {
                return false;
            }

            rooms[roomId] = expiresAt;
            return true;
        }
    }

    public Task HoldAsync(string keyId, string roomId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        lock (_rooms)
        {
            RoomsOf(keyId).TryAdd(roomId, expiresAt);
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string keyId, string roomId, CancellationToken cancellationToken)
    {
        lock (_rooms)
        {
            RoomsOf(keyId).Remove(roomId);
        }

        return Task.CompletedTask;
    }

    private Dictionary<string, DateTimeOffset> RoomsOf(string keyId)
    {
        if (!_rooms.TryGetValue(keyId, out var rooms))
        {
            rooms = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            _rooms[keyId] = rooms;
        }

        return rooms;
    }
}
