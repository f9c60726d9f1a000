using System.Collections.Concurrent;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Which rooms this replica has members in, reference-counted by local connection: the first
/// connection of a room subscribes its channel, the last one to leave unsubscribes. Each room has its
/// own gate, so a subscribe and an unsubscribe of one room never interleave, while a slow (or down)
/// Redis delays only the rooms it is subscribing — never other rooms, and never the ticker's copy.
/// </summary>
public sealed class RoomSubscriptions(IRoomBackplane backplane, RoomFanout fanout, ILogger<RoomSubscriptions> logger)
{
    private readonly ConcurrentDictionary<string, RoomEntry> _rooms = new(StringComparer.Ordinal);

    /// <summary>Adds a local connection of a member to a room; subscribes the room's channel on 0 → 1.</summary>
    public async Task AddAsync(string roomId, string connectionId, string memberId, CancellationToken cancellationToken)
    {
        // Bounded: an entry is only replaced after its last connection left, so this settles at once.
        while (true)
        {
            var entry = _rooms.GetOrAdd(roomId, _ => new RoomEntry());
            await entry.Gate.WaitAsync(cancellationToken);
            try
            {
                if (entry.Retired)
                {
                    continue;
                }

                if (entry.Subscription is null)
                {
                    entry.Subscription = await backplane.SubscribeAsync(roomId, fanout.Deliver, cancellationToken);
                    FanoutLog.Subscribed(logger, roomId);
                }

                entry.Add(connectionId, memberId);
                return;
            }
            catch
            {
                RetireIfEmpty(roomId, entry);
                throw;
            }
            finally
            {
                entry.Gate.Release();
            }
        }
    }

    /// <summary>
    /// The connection's Join has completed: from now on ticks renew its presence lease. Until then it
    /// only receives (its subscription must precede the store read), so a tick can never announce a
    /// member before their Join registered them, nor bring back a lease a failed Join released.
    /// </summary>
    public void MarkJoined(string roomId, string connectionId)
    {
        if (_rooms.TryGetValue(roomId, out var entry))
        {
            entry.MarkJoined(connectionId);
        }
    }

    /// <summary>Whether the connection is still tracked in the room (it has not left).</summary>
    public bool IsTracked(string roomId, string connectionId) =>
        _rooms.TryGetValue(roomId, out var entry) && entry.Contains(connectionId);

    /// <summary>Removes a local connection from a room; unsubscribes on 1 → 0.</summary>
    public async Task RemoveAsync(string roomId, string connectionId)
    {
        if (!_rooms.TryGetValue(roomId, out var entry))
        {
            return;
        }

        await entry.Gate.WaitAsync();
        try
        {
            if (entry.Retired || !entry.Remove(connectionId) || !RetireIfEmpty(roomId, entry))
            {
                return;
            }

            if (entry.Subscription is { } subscription)
            {
                await subscription.DisposeAsync();
                FanoutLog.Unsubscribed(logger, roomId);
            }
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>The rooms with local members and their joined connections, copied for a tick (no waiting).</summary>
    public IReadOnlyList<(string RoomId, IReadOnlyList<TrackedConnection> Connections)> Snapshot() =>
        _rooms
            .Select(r => (RoomId: r.Key, Connections: (IReadOnlyList<TrackedConnection>)r.Value.Copy()))
            .Where(r => r.Connections.Count > 0)
            .ToList();

    /// <summary>Called under the entry's gate: takes an empty entry out of the map so the next add starts afresh.</summary>
    private bool RetireIfEmpty(string roomId, RoomEntry entry)
    {
        if (!entry.IsEmpty)
        {
            return false;
        }

        entry.Retired = true;
        _rooms.TryRemove(new KeyValuePair<string, RoomEntry>(roomId, entry));
        return true;
    }

    private sealed class RoomEntry
    {
        private readonly Dictionary<string, string> _members = new(StringComparer.Ordinal);
        private readonly HashSet<string> _joined = new(StringComparer.Ordinal);

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public IAsyncDisposable? Subscription { get; set; }

        public bool Retired { get; set; }

        public bool IsEmpty
        {
            get
            {
                lock (_members)
                {
                    return _members.Count == 0;
                }
            }
        }

        public void Add(string connectionId, string memberId)
        {
            lock (_members)
            {
                _members[connectionId] = memberId;
            }
        }

        public void MarkJoined(string connectionId)
        {
            lock (_members)
            {
                if (_members.ContainsKey(connectionId))
                {
                    _joined.Add(connectionId);
                }
            }
        }

        public bool Contains(string connectionId)
        {
            lock (_members)
            {
                return _members.ContainsKey(connectionId);
            }
        }

        public bool Remove(string connectionId)
        {
            lock (_members)
            {
                _joined.Remove(connectionId);
                return _members.Remove(connectionId);
            }
        }

        public List<TrackedConnection> Copy()
        {
            lock (_members)
            {
                return _members.Where(m => _joined.Contains(m.Key)).Select(m => new TrackedConnection(m.Key, m.Value)).ToList();
            }
        }
    }
}

/// <summary>A local connection and the member it belongs to, as the ticker renews it.</summary>
public readonly record struct TrackedConnection(string ConnectionId, string MemberId);
