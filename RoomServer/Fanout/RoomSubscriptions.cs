using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Which rooms this replica has members in, reference-counted by local connection: the first
/// connection of a room subscribes its channel, the last one to leave unsubscribes (under one lock,
/// so a subscribe and an unsubscribe of one room never interleave).
/// </summary>
public sealed class RoomSubscriptions(IRoomBackplane backplane, RoomFanout fanout, ILogger<RoomSubscriptions> logger) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, RoomEntry> _rooms = new(StringComparer.Ordinal);

    /// <summary>Adds a local connection to a room; subscribes the room's channel on 0 → 1.</summary>
    public async Task AddAsync(string roomId, string connectionId, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!_rooms.TryGetValue(roomId, out var entry))
            {
                var subscription = await backplane.SubscribeAsync(roomId, fanout.Deliver, cancellationToken);
                entry = new RoomEntry(subscription);
                _rooms[roomId] = entry;
                FanoutLog.Subscribed(logger, roomId);
            }

            entry.Connections.Add(connectionId);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Removes a local connection from a room; unsubscribes on 1 → 0.</summary>
    public async Task RemoveAsync(string roomId, string connectionId)
    {
        await _lock.WaitAsync();
        try
        {
            if (!_rooms.TryGetValue(roomId, out var entry) || !entry.Connections.Remove(connectionId) || entry.Connections.Count > 0)
            {
                return;
            }

            _rooms.Remove(roomId);
            await entry.Subscription.DisposeAsync();
            FanoutLog.Unsubscribed(logger, roomId);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The rooms with local members and their connection ids, copied for a tick.</summary>
    public async Task<IReadOnlyList<(string RoomId, IReadOnlyList<string> ConnectionIds)>> SnapshotAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return _rooms.Select(r => (r.Key, (IReadOnlyList<string>)[.. r.Value.Connections])).ToList();
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private sealed record RoomEntry(IAsyncDisposable Subscription)
    {
        public HashSet<string> Connections { get; } = new(StringComparer.Ordinal);
    }
}
