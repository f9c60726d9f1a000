using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded mode's store: rooms in process memory, one lock per room. A change runs under the lock and
/// publishes its messages before releasing it, so the backplane sees version order. Nothing survives
/// a restart — that is what scaled mode (Redis) is for.
/// </summary>
public sealed class InMemoryRoomStore(
    InProcessBackplane backplane,
    InMemoryOrderOutbox orders,
    IOptions<RoomServerOptions> options,
    TimeProvider time) : IRoomStore
{
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, InMemoryRoom> _rooms = new(StringComparer.Ordinal);
    private readonly RoomServerOptions _options = options.Value;

    // Idempotency-Key records kept beside the rooms, as notice.lua and create.lua keep theirs in the room's slot.
    private readonly ExpiringRecords<(string RequestHash, long Version)> _notices = new(time);
    private readonly ExpiringRecords<string> _createdOnce = new(time);
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    private TimeSpan Grace => TimeSpan.FromSeconds(_options.PresenceGraceSeconds);

    public Task<bool> CreateAsync(NewRoom room, CancellationToken cancellationToken) => Task.FromResult(TryCreate(room));

    private bool TryCreate(NewRoom room)
    {
        PurgeExpiredRooms();
        var created = new InMemoryRoom(room, _options.HistoryLength, _options.AuditLength, _options.IdempotencyWindow, _options.MaxQuantity, _options.Limits.ForRooms(), time);
        created.Touch(time.GetUtcNow());
        return _rooms.TryAdd(room.RoomId, created);
    }

    /// <summary>As create.lua with its once-mark: the check, the creation and the mark under one lock.</summary>
    public Task<RoomCreation> CreateOnceAsync(NewRoom room, bool replayOnly, CancellationToken cancellationToken) =>
        Task.FromResult(CreateOnce(room, replayOnly));

    private RoomCreation CreateOnce(NewRoom room, bool replayOnly)
    {
        lock (_createdOnce)
        {
            // The mark decides, as in create.lua (where a failover renews the room's epoch, never the mark's).
            if (_createdOnce.TryGet(room.RoomId, out var epoch) && epoch == room.Epoch)
            {
                return TryGetLive(room.RoomId, out _) ? RoomCreation.Exists : RoomCreation.Gone;
            }

            // Fallback for a mark pushed out while its room lives: the room with this (random) epoch was made
            // for the key. After the mark, as in create.lua, so it never answers for a renewed epoch.
            if (TryGetLive(room.RoomId, out var existing) && existing.Epoch == room.Epoch)
            {
                _createdOnce.GetOrAdd(room.RoomId, room.Epoch, _options.IdempotencyKeyWindow, _ => room.Epoch);
                return RoomCreation.Exists;
            }

            if (replayOnly)
            {
                return RoomCreation.NotCreated;
            }

            if (!TryCreate(room))
            {
                return RoomCreation.Taken;
            }

            _createdOnce.GetOrAdd(room.RoomId, room.Epoch, _options.IdempotencyKeyWindow, _ => room.Epoch);
            return RoomCreation.Created;
        }
    }

    public Task<bool> ExistsAsync(string roomId, CancellationToken cancellationToken) =>
        Task.FromResult(TryGetLive(roomId, out _));

    public Task<RoomSnapshot> GetSnapshotAsync(string roomId, CancellationToken cancellationToken) =>
        Task.FromResult(Change(roomId, (room, published) => room.Snapshot(time.GetUtcNow(), _options.PresenceLease, Grace, published), touch: false));

    public Task<EventPage> ReadEventsAsync(string roomId, long from, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(Change(roomId, (room, _) => room.ReadEvents(from, limit), touch: false));

    public Task<JoinOutcome> JoinAsync(JoinRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(Change(request.RoomId, (room, published) =>
            room.Join(request, time.GetUtcNow(), _options.PresenceLease, Grace, published)));

    public Task<ChoiceOutcome> ChangeChoiceAsync(ChoiceChange change, CancellationToken cancellationToken) =>
        Task.FromResult(Change(change.RoomId, (room, published) =>
        {
            // As choice.lua: a replayed opId answers before anything is written, its room's TTL too.
            var replayed = change.OpId is { } opId && room.KnowsOp(change.MemberId, opId);
            var ack = room.ChangeChoice(change, published);
            if (!replayed)
            {
                room.Touch(time.GetUtcNow());
            }

            return new ChoiceOutcome(ack, replayed);
        }, touch: false));

    public Task<ChoiceAck?> ReplayChoiceAsync(ChoiceReplay replay, CancellationToken cancellationToken) =>
        Task.FromResult(Change(replay.RoomId, (room, _) => room.ReplayChoice(replay), touch: false));

    /// <summary>Like state.lua: a hand-off transition writes its order record in the same step, under the room's lock.</summary>
    public Task<VersionAck> SetStateAsync(StateChange change, CancellationToken cancellationToken) =>
        Task.FromResult(Change(change.RoomId, (room, published) =>
        {
            var before = room.State;

            // Checked as state.lua does, after the transition's own checks and before the write rate is taken.
            if (RoomStates.RejectionFor(before, change.State) is null && OrderRecordTypes.For(before, change.State) is not null
                && orders.UnsettledCount(change.RoomId) >= _options.Limits.MaxUnsettledOrderRecords)
            {
                throw RoomLimits.TooManyOrderRecords(_options.Limits.MaxUnsettledOrderRecords);
            }

            var ack = room.SetState(change, published);
            if (OrderRecordTypes.For(before, room.State) is { } type)
            {
                orders.Append(OrderRecord.From(type, room.OrderSnapshot(), change.By, change.At), IsLive);
            }

            return ack;
        }));

    public Task<VersionAck> RefreshAsync(RefreshRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(Change(request.RoomId, (room, published) => room.Refresh(request, published)));

    public Task<RemovalAck> RemoveMemberAsync(MemberRemoval removal, CancellationToken cancellationToken) =>
        Task.FromResult(Change(removal.RoomId, (room, published) => room.RemoveMember(removal, published)));

    public Task<long> RemovalGenerationAsync(string roomId, string memberId, CancellationToken cancellationToken)
    {
        if (!TryGetLive(roomId, out var room))
        {
            return Task.FromResult(0L);
        }

        lock (room)
        {
            return Task.FromResult(room.RemovalGeneration(memberId));
        }
    }

    /// <summary>
    /// As notice.lua: a known Idempotency-Key answers first (even for a room closed or gone since); the notice
    /// and its key's record are one step under the room's lock.
    /// </summary>
    public Task<VersionAck> PublishNoticeAsync(NoticePublication notice, CancellationToken cancellationToken)
    {
        if (notice.Idempotency is not { } key)
        {
            return Task.FromResult(Change(notice.RoomId, (room, published) => room.Notice(notice, published)));
        }

        var recordKey = $"{notice.RoomId}\n{key.CallerId}\n{key.Key}";
        if (_notices.TryGet(recordKey, out var prior))
        {
            return Task.FromResult(Replay(prior, key));
        }

        return Task.FromResult(Change(notice.RoomId, (room, published) =>
        {
            if (_notices.TryGet(recordKey, out var earlier))
            {
                return Replay(earlier, key);
            }

            var ack = room.Notice(notice, published);
            _notices.GetOrAdd(recordKey, (key.RequestHash, ack.Version), _options.IdempotencyKeyWindow);
            return ack;
        }));
    }

    private static VersionAck Replay((string RequestHash, long Version) record, IdempotencyKey key) =>
        record.RequestHash == key.RequestHash ? new VersionAck(record.Version) : throw RoomException.IdempotencyKeyReused();

    public Task DeleteAsync(RoomDeletion deletion, CancellationToken cancellationToken)
    {
        Change(deletion.RoomId, (room, published) =>
        {
            room.MarkDeleted(deletion.At, published);
            _rooms.TryRemove(new KeyValuePair<string, InMemoryRoom>(deletion.RoomId, room));
            return true;
        });
        return Task.CompletedTask;
    }

    public Task ConnectionLeftAsync(ConnectionDeparture departure, CancellationToken cancellationToken)
    {
        if (TryGetLive(departure.RoomId, out var room))
        {
            lock (room)
            {
                room.ConnectionLeft(departure.Connection, time.GetUtcNow());
            }
        }

        return Task.CompletedTask;
    }

    public string? ShardOf(string roomId) => null;

    public Task<SweepOutcome> SweepPresenceAsync(PresenceSweep sweep, CancellationToken cancellationToken) =>
        Task.FromResult(Change(
            sweep.RoomId,
            (room, published) =>
            {
                var removed = room.Sweep(sweep.LiveConnections, time.GetUtcNow(), _options.PresenceLease, Grace, published);
                return new SweepOutcome(room.Position, removed);
            },
            touch: false));

    public Task<StoreReadiness> CheckReadinessAsync(CancellationToken cancellationToken) => Task.FromResult(new StoreReadiness(true));

    /// <summary>
    /// Runs one change under the room's lock and publishes what it produced before releasing the lock.
    /// A throwing change publishes nothing (changes validate before they mutate).
    /// </summary>
    private T Change<T>(string roomId, Func<InMemoryRoom, List<BackplaneMessage>, T> change, bool touch = true)
    {
        if (!TryGetLive(roomId, out var room))
        {
            throw RoomException.NotFound(roomId);
        }

        lock (room)
        {
            if (!_rooms.TryGetValue(roomId, out var current) || !ReferenceEquals(current, room))
            {
                throw RoomException.NotFound(roomId);
            }

            var published = new List<BackplaneMessage>(2);
            var result = change(room, published);
            if (touch)
            {
                // Like the scripts' touch(): any accepted change, even one that changed nothing, is activity.
                room.Touch(time.GetUtcNow());
            }

            foreach (var message in published)
            {
                backplane.Publish(message);
            }

            return result;
        }
    }

    /// <summary>Whether the room exists and has not expired (read only: the purge is TryGetLive's).</summary>
    private bool IsLive(string roomId) => _rooms.TryGetValue(roomId, out var room) && room.ExpiresAt > time.GetUtcNow();

    private bool TryGetLive(string roomId, out InMemoryRoom room)
    {
        if (_rooms.TryGetValue(roomId, out room!) && room.ExpiresAt > time.GetUtcNow())
        {
            return true;
        }

        if (room is not null)
        {
            _rooms.TryRemove(new KeyValuePair<string, InMemoryRoom>(roomId, room));
        }

        return false;
    }

    private void PurgeExpiredRooms()
    {
        var now = time.GetUtcNow();
        if (now - _lastPurge < PurgeEvery)
        {
            return;
        }

        _lastPurge = now;
        foreach (var (id, room) in _rooms)
        {
            if (room.ExpiresAt <= now)
            {
                _rooms.TryRemove(new KeyValuePair<string, InMemoryRoom>(id, room));
            }
        }
    }
}
