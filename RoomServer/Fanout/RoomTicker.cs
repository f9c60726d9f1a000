using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Every <c>PositionIntervalSeconds</c>, and right after the backplane is restored, ticks each room
/// this replica has members in: renews the presence leases of its connections, sweeps dead ones
/// (announcing members offline after the grace period), and sends the room's position to its local
/// members — so a member whose last event was lost by pub/sub notices and calls <c>Join(since)</c>
/// (mostly not when the last event written to them here is already at it: a busy room's events say it,
/// <see cref="MembersPosition"/>).
/// After a restore it also sends every member's presence, which a position cannot stand for.
/// The rooms are spread over the interval (<see cref="SlicesPerInterval"/> slices, by a hash of the
/// room id), not ticked in one burst: a burst of sweep scripts queued every write in Redis behind it
/// and was most of the ack and fan-out p99 in the W1 benchmark (docs/bench).
/// <para>
/// It also releases a connection's lease when the connection leaves the room
/// (<see cref="ConnectionLeftAsync"/>), never while a sweep of that room is in flight: a sweep renews
/// every lease it was given, so a lease released under it came back for a moment — long enough for
/// the member's next Join to be refused as over the connection limit. A sweep is marked in flight
/// (<see cref="SweepsInFlight"/>) and renews only connections still joined; a leave, already out of
/// the room, waits for that room's sweeps in flight, then releases its lease — so leaves never wait
/// for each other, and no sweep waits for another room's (one on a shard that is down takes seconds).
/// <para>
/// Rooms whose store was unavailable at their last tick tick in a small lane of their own, and a
/// tick running long gives its slot back: a shard that is down holds up only its own rooms.
/// </para>
/// </para>
/// </summary>
public sealed class RoomTicker(
    RoomMembership membership,
    IRoomStore store,
    IRoomBackplane backplane,
    RemovedMemberEviction eviction,
    IOptions<RoomServerOptions> options,
    ReplicaShutdown shutdown,
    ILogger<RoomTicker> logger) : BackgroundService
{
    // Rooms are ticked a few at a time, across slices: one slow (or down) Redis must not make a tick
    // take rooms × deadline, and a big replica must not flood Redis with one burst.
    private const int ParallelRoomTicks = 16;

    // Rooms whose last tick found the store unavailable (a Redis Cluster shard down, say: each of its
    // calls waits out the store deadline) tick in a lane of their own, so they never hold the slots of
    // the rooms whose shards answer — whose presence leases would lapse behind them (DESIGN.md §9).
    private const int ParallelStrugglingTicks = 4;

    // One unavailable tick marks its room's whole shard (IRoomStore.ShardOf) struggling, so the rest of a
    // lost shard's rooms go to that lane without each waiting out the deadline first. Until the first
    // answer comes back, a tick still running after SlowTickAfter gives its slot back; at most as many
    // run so as the lane has slots, so a slow but answering Redis is not sent more than twice its sweeps.
    private static readonly TimeSpan SlowTickAfter = TimeSpan.FromMilliseconds(500);
    private const int MaxDetachedTicks = ParallelRoomTicks;

    // How long a room or shard counts as struggling after its last unavailable tick, unless a tick of it succeeds first.
    private static readonly TimeSpan StrugglingFor = TimeSpan.FromMinutes(1);

    /// <summary>Each interval is ticked in this many slices, each room in one of them.</summary>
    public const int SlicesPerInterval = 10;

    private readonly RoomServerOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, byte> _graceSweepsPending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _tickSlots = new(ParallelRoomTicks, ParallelRoomTicks);
    private readonly SemaphoreSlim _strugglingSlots = new(ParallelStrugglingTicks, ParallelStrugglingTicks);
    private readonly ConcurrentDictionary<StrugglingKey, long> _strugglingSince = new();

    // Rooms whose presence catch-up after a restore could not be read (the store unavailable), and since when: the
    // room's next tick sends it. Nothing else would: no restore comes again once the backplane is back. Forgotten
    // with the struggling marks, should the room stop ticking here.
    private readonly ConcurrentDictionary<string, long> _presenceOwed = new(StringComparer.Ordinal);
    private int _detachedTicks;
    private readonly SweepsInFlight _sweeps = new();

    // Rooms whose tick is queued or running: a later slice (or a restore) skips them rather than
    // ticking one room twice at once.
    private readonly ConcurrentDictionary<string, byte> _ticking = new(StringComparer.Ordinal);

    // Restore ticks, at most one waiting and one running per room, however often the backplane says "restored".
    private readonly PendingRestores _restores = new();

    // Fire-and-forget work (grace sweeps, ticks after a restore) ends once the drain is over, not when it starts (its
    // members are still here); a token this service does not own, and that is never disposed.
    private CancellationToken Stopping => shutdown.Token;

    /// <summary>
    /// Releases the lease of a connection that left the room, then sweeps the room after the grace
    /// period. The connection has already left <see cref="RoomMembership"/>, so a sweep that starts
    /// from now on leaves it out; one in flight may still renew it, so the release waits for that one.
    /// </summary>
    public async Task ConnectionLeftAsync(string roomId, ConnectionKey connection)
    {
        await _sweeps.WhenDoneAsync(roomId);
        await store.ConnectionLeftAsync(new ConnectionDeparture(roomId, connection), CancellationToken.None);
        ScheduleGraceSweep(roomId);
    }

    /// <summary>
    /// Sweeps one room after the grace period of a member who just lost a connection, so "offline"
    /// shows promptly. One pending sweep per room: a mass disconnect schedules one, not thousands;
    /// a member whose grace ends after it is caught by the next periodic tick.
    /// </summary>
    private void ScheduleGraceSweep(string roomId)
    {
        if (!_graceSweepsPending.TryAdd(roomId, 0))
        {
            return;
        }

        var delay = TimeSpan.FromSeconds(_options.PresenceGraceSeconds) + TimeSpan.FromMilliseconds(200);
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(delay, Stopping);
                _graceSweepsPending.TryRemove(roomId, out _);
                _ = await TickRoomAsync(roomId, LocalConnectionsOf(roomId), Stopping);
            }
            catch (OperationCanceledException)
            {
                // Shutting down.
            }
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        backplane.Restored += OnBackplaneRestored;
        try
        {
            // Each slice starts on time, not after the previous one: rooms on a slow shard (a sweep
            // waiting out the store deadline) must not stretch the round past the presence lease
            // for every other room.
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.PositionIntervalSeconds) / SlicesPerInterval);
            for (var slice = 0; await timer.WaitForNextTickAsync(stoppingToken); slice = (slice + 1) % SlicesPerInterval)
            {
                if (slice == 0)
                {
                    ForgetStaleStruggling();
                }

                var current = slice;
                _ = Task.WhenAll(membership.Snapshot(roomId => SliceOf(roomId) == current)
                    .Where(room => _ticking.TryAdd(room.RoomId, 0))
                    .Select(room => TickInTurnAsync(room, tracked: true, stoppingToken)));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            backplane.Restored -= OnBackplaneRestored;
        }
    }

    private void OnBackplaneRestored(IReadOnlyCollection<string>? restored) => _ = Task.Run(async () =>
    {
        // Every room named (null: every room), even one whose periodic tick is under way: that one may have
        // read its position before the restore.
        var named = restored?.ToHashSet(StringComparer.Ordinal);

        // Forgotten before the ticks: whichever of them fails, the rooms' next ticks send their positions too.
        membership.ForgetDelivered(named);

        // Rooms whose connections are all still joining too: their Join's snapshot may be older than a presence
        // change this replica did not hear, and nothing else would send them the catch-up.
        var rooms = membership.RoomsWithMembers(room => named is null || named.Contains(room));
        if (rooms.Count == 0)
        {
            return;
        }

        // Taken before the log line, which so says this restore's rooms are accounted for.
        var ticks = rooms.Where(_restores.Request).Select(RestoreTicksAsync).ToList();
        FanoutLog.SendingPositionsAfterRestore(logger, rooms.Count);
        await Task.WhenAll(ticks);
    });

    /// <summary>A room's restore tick, and one more while a restore was heard during it (<see cref="PendingRestores"/>).</summary>
    private async Task RestoreTicksAsync(string roomId)
    {
        do
        {
            await TickInTurnAsync((roomId, []), tracked: false, Stopping, afterRestore: true);
        }
        while (!Stopping.IsCancellationRequested && _restores.Ended(roomId));
    }

    /// <summary>A room's slice: stable within this process, and different across replicas (the string hash is seeded per process).</summary>
    private static int SliceOf(string roomId) => (int)((uint)StringComparer.Ordinal.GetHashCode(roomId) % SlicesPerInterval);

    /// <summary>
    /// One room's tick, once a slot of its lane is free: one of the <see cref="ParallelRoomTicks"/>, or —
    /// a room whose store was unavailable at its last tick — of the <see cref="ParallelStrugglingTicks"/>.
    /// A <paramref name="tracked"/> tick was entered in <see cref="_ticking"/> and leaves it when done.
    /// </summary>
    private async Task TickInTurnAsync(
        (string RoomId, IReadOnlyList<TrackedConnection> Connections) room, bool tracked, CancellationToken cancellationToken, bool afterRestore = false)
    {
        try
        {
            var (struggling, slots) = await TakeSlotAsync(room.RoomId, cancellationToken);
            if (afterRestore)
            {
                _restores.Started(room.RoomId);
            }

            var released = false;
            try
            {
                var tick = TickAndCatchUpAsync(room, afterRestore, cancellationToken);
                try
                {
                    await (struggling ? tick : tick.WaitAsync(SlowTickAfter, cancellationToken));
                }
                catch (TimeoutException)
                {
                    // Slow: its slot goes to the rooms behind it, which may be on a shard that answers.
                    var detached = Interlocked.Increment(ref _detachedTicks) <= MaxDetachedTicks;
                    if (detached)
                    {
                        slots.Release();
                        released = true;
                    }
                    else
                    {
                        Interlocked.Decrement(ref _detachedTicks);
                    }

                    try
                    {
                        await tick;
                    }
                    finally
                    {
                        if (detached)
                        {
                            Interlocked.Decrement(ref _detachedTicks);
                        }
                    }
                }
            }
            finally
            {
                if (!released)
                {
                    slots.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            // Nobody awaits a slice: say so here, and the room's next slice tries again.
            FanoutLog.TickCrashed(logger, room.RoomId, ex);
        }
        finally
        {
            if (tracked)
            {
                _ticking.TryRemove(room.RoomId, out _);
            }
        }
    }

    /// <summary>
    /// A slot of the room's lane. A room waiting for a main slot whose shard was found struggling meanwhile
    /// (an earlier room of it failed) moves to the struggling lane rather than take the slot.
    /// </summary>
    private async Task<(bool Struggling, SemaphoreSlim Slots)> TakeSlotAsync(string roomId, CancellationToken cancellationToken)
    {
        if (!IsStruggling(roomId))
        {
            await _tickSlots.WaitAsync(cancellationToken);
            if (!IsStruggling(roomId))
            {
                return (false, _tickSlots);
            }

            _tickSlots.Release();
        }

        await _strugglingSlots.WaitAsync(cancellationToken);
        return (true, _strugglingSlots);
    }

    private async Task TickAndCatchUpAsync((string RoomId, IReadOnlyList<TrackedConnection> Connections) room, bool afterRestore, CancellationToken cancellationToken)
    {
        // A restore tick reads the room's connections once it has its slot, not when the restore was heard.
        var connections = afterRestore ? LocalConnectionsOf(room.RoomId) : ToLocal(room.Connections);
        var answered = await TickRoomAsync(room.RoomId, connections, cancellationToken);
        var key = StrugglingKeyOf(room.RoomId);
        if (answered)
        {
            _strugglingSince.TryRemove(key, out _);
        }
        else
        {
            _strugglingSince[key] = Environment.TickCount64;
        }

        // An owed catch-up waits for a tick the store answered: one that found it away would only fail again.
        if (afterRestore | (answered && _presenceOwed.TryRemove(room.RoomId, out _)))
        {
            await SendPresenceCatchUpAsync(room.RoomId, cancellationToken);
        }
    }

    private bool IsStruggling(string roomId) =>
        _strugglingSince.TryGetValue(StrugglingKeyOf(roomId), out var since) && Environment.TickCount64 - since < (long)StrugglingFor.TotalMilliseconds;

    /// <summary>What an unavailable tick marks: the room's shard where the store has shards, else the room.</summary>
    // A pair, not a prefixed string: every tick asks (three times), and the store keeps the shard's name, so nothing is built.
    private StrugglingKey StrugglingKeyOf(string roomId) => store.ShardOf(roomId) is { } shard ? new(true, shard) : new(false, roomId);

    /// <summary>
    /// Rooms and shards marked struggling, and catch-ups owed, that have not ticked since (gone from this replica, say)
    /// are forgotten.
    /// </summary>
    private void ForgetStaleStruggling()
    {
        foreach (var (key, since) in _strugglingSince)
        {
            if (Environment.TickCount64 - since >= (long)StrugglingFor.TotalMilliseconds)
            {
                _strugglingSince.TryRemove(new KeyValuePair<StrugglingKey, long>(key, since));
            }
        }

        // Kept for a few of the room's intervals too: a room ticks once an interval, which may be longer than the struggling mark.
        var owedFor = Math.Max((long)StrugglingFor.TotalMilliseconds, 3_000L * _options.PositionIntervalSeconds);
        foreach (var (roomId, since) in _presenceOwed)
        {
            if (Environment.TickCount64 - since >= owedFor)
            {
                _presenceOwed.TryRemove(new KeyValuePair<string, long>(roomId, since));
            }
        }
    }

    private List<LocalConnection> LocalConnectionsOf(string roomId) => ToLocal(membership.JoinedConnectionsOf(roomId));

    private List<LocalConnection> ToLocal(IReadOnlyCollection<TrackedConnection> connections)
    {
        var local = new List<LocalConnection>(connections.Count);
        foreach (var c in connections)
        {
            local.Add(new LocalConnection(new ConnectionKey(_options.ReplicaId, c.ConnectionId), c.MemberId, c.TokenRemovalGeneration));
        }

        return local;
    }

    /// <summary>
    /// Connections whose member was removed after their token was issued: the member_removed event
    /// closes them (<see cref="RemovedMemberEviction"/>), but this replica may have missed it — pub/sub
    /// loses messages in an outage. They leave the room at once (no more of its events, not this
    /// tick's position) and are closed once the <c>Removed</c> notice has had its head start.
    /// </summary>
    private async Task EvictRemovedAsync(string roomId, IReadOnlyList<LocalConnection> removed)
    {
        foreach (var connection in removed)
        {
            if (membership.ContextOf(connection.Key.ConnectionId) is { } context)
            {
                eviction.CloseLater(context, roomId, connection.MemberId);
                await membership.LeaveRemovedAsync(roomId, connection.Key.ConnectionId);
            }
        }
    }

    /// <summary>
    /// After the backplane was restored: every member's presence to the room's local members. Presence
    /// is not versioned, so the position cannot tell a client it missed an announcement while this
    /// replica could not hear the room (pub/sub loses messages only then). Each carries the room's
    /// current presence seq, as a resume's catch-up does: a newer announcement that overtakes it wins.
    /// </summary>
    private async Task SendPresenceCatchUpAsync(string roomId, CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await store.GetSnapshotAsync(roomId, cancellationToken);
            foreach (var member in snapshot.Members)
            {
                membership.SendToRoom(roomId, RoomClientMethods.Presence, new PresenceChange(roomId, member.MemberId, member.DisplayName, member.Online, snapshot.PresenceSeq));
            }
        }
        catch (RoomException ex)
        {
            _presenceOwed[roomId] = Environment.TickCount64;
            FanoutLog.TickFailed(logger, roomId, ex.Code);
        }
    }

    /// <summary>
    /// One room's sweep and position; false when the store was unavailable (its next ticks go in the struggling lane).
    /// The position is left out while the last event written to the room's members here was at it
    /// (<see cref="RoomMembership.SendPosition"/>): at steady traffic every event already told them.
    /// </summary>
    private async Task<bool> TickRoomAsync(string roomId, List<LocalConnection> live, CancellationToken cancellationToken)
    {
        try
        {
            SweepOutcome swept;
            using (_sweeps.Begin(roomId))
            {
                // Only the connections still joined: one that left after the slice was taken has
                // released its lease (or waits for this sweep to end first), and one that left and is
                // joining again gets its lease from its Join — neither may get one from here.
                var stillHere = new List<LocalConnection>(live.Count);
                foreach (var connection in live)
                {
                    if (membership.IsJoined(connection.Key.ConnectionId, roomId))
                    {
                        stillHere.Add(connection);
                    }
                }

                swept = await store.SweepPresenceAsync(new PresenceSweep(roomId, stillHere), cancellationToken);
            }

            await EvictRemovedAsync(roomId, swept.Removed);
            membership.SendPosition(roomId, swept.Position);
            return true;
        }
        catch (RoomException ex)
        {
            // room_not_found: deleted or expired, its members have had the last event; unavailable:
            // the next tick (or the restore) tries again.
            FanoutLog.TickFailed(logger, roomId, ex.Code);
            return ex.Code != RoomErrorCodes.Unavailable;
        }
    }
}

/// <summary>What a tick that found the store unavailable marks struggling: a shard, named by its beat's channel, or one room.</summary>
internal readonly record struct StrugglingKey(bool IsShard, string Name);
