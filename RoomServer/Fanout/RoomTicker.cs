using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Every <c>PositionIntervalSeconds</c>, and right after the backplane is restored, ticks each room
/// this replica has members in: renews the presence leases of its connections, sweeps dead ones
/// (announcing members offline after the grace period), and sends the room's position to its local
/// members — so a member whose last event was lost by pub/sub notices and calls <c>Join(since)</c>.
/// After a restore it also sends every member's presence, which a position cannot stand for.
/// The rooms are spread over the interval (<see cref="SlicesPerInterval"/> slices, by a hash of the
/// room id), not ticked in one burst: a burst of sweep scripts queued every write in Redis behind it
/// and was most of the ack and fan-out p99 in the W1 benchmark (docs/bench).
/// <para>
/// It also releases a connection's lease when the connection leaves the room
/// (<see cref="ConnectionLeftAsync"/>), never while a sweep of that room is in flight: a sweep renews
/// every lease it was given, so a lease released under it came back for a moment — long enough for
/// the member's next Join to be refused as over the connection limit. A sweep holds its room's gate
/// and renews only connections still joined; a leave, already out of the room, passes the gate once
/// (waiting for a sweep in flight), then releases its lease outside it, so leaves never wait for
/// each other.
/// </para>
/// </summary>
public sealed class RoomTicker(
    RoomMembership membership,
    IRoomStore store,
    IRoomBackplane backplane,
    RemovedMemberEviction eviction,
    IOptions<RoomServerOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<RoomTicker> logger) : BackgroundService
{
    // Rooms are ticked a few at a time, across slices: one slow (or down) Redis must not make a tick
    // take rooms × deadline, and a big replica must not flood Redis with one burst.
    private const int ParallelRoomTicks = 16;

    // A room's sweep holds the room's gate; a lease release of that room passes it. Striped by room,
    // so the gates are fixed (nothing to create or retire per room): two rooms on one stripe only
    // wait for each other's sweeps. Prime, so the stripes do not follow the slices (same hash, mod 10).
    private const int RoomGateStripes = 61;

    /// <summary>Each interval is ticked in this many slices, each room in one of them.</summary>
    public const int SlicesPerInterval = 10;

    private readonly RoomServerOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, byte> _graceSweepsPending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _tickSlots = new(ParallelRoomTicks, ParallelRoomTicks);
    private readonly SemaphoreSlim[] _roomGates = [.. Enumerable.Range(0, RoomGateStripes).Select(_ => new SemaphoreSlim(1, 1))];

    // Rooms whose tick is queued or running: a later slice (or a restore) skips them rather than
    // ticking one room twice at once.
    private readonly ConcurrentDictionary<string, byte> _ticking = new(StringComparer.Ordinal);

    // Fire-and-forget work (grace sweeps, ticks after a restore) ends with the application; the host's
    // own token, not one this service owns, so nothing here can be used after it was disposed.
    private CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>
    /// Releases the lease of a connection that left the room, then sweeps the room after the grace
    /// period. The connection has already left <see cref="RoomMembership"/>, so a sweep that starts
    /// from now on leaves it out; one in flight may still renew it, so the release waits for that one.
    /// </summary>
    public async Task ConnectionLeftAsync(string roomId, ConnectionKey connection)
    {
        var gate = GateOf(roomId);
        await gate.WaitAsync();
        gate.Release();

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
                await TickRoomAsync(roomId, LocalConnectionsOf(roomId), Stopping);
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

    private void OnBackplaneRestored() => _ = Task.Run(async () =>
    {
        FanoutLog.SendingPositionsAfterRestore(logger, membership.Snapshot().Count);
        // Every room, even one whose periodic tick is under way: that one may have read its
        // position before the restore.
        await Task.WhenAll(membership.Snapshot().Select(room => TickInTurnAsync(room, tracked: false, Stopping, afterRestore: true)));
    });

    /// <summary>A room's slice: stable within this process, and different across replicas (the string hash is seeded per process).</summary>
    private static int SliceOf(string roomId) => (int)((uint)StringComparer.Ordinal.GetHashCode(roomId) % SlicesPerInterval);

    private SemaphoreSlim GateOf(string roomId) => _roomGates[(uint)StringComparer.Ordinal.GetHashCode(roomId) % RoomGateStripes];

    /// <summary>
    /// One room's tick, once one of the <see cref="ParallelRoomTicks"/> slots is free. A
    /// <paramref name="tracked"/> tick was entered in <see cref="_ticking"/> and leaves it when done.
    /// </summary>
    private async Task TickInTurnAsync(
        (string RoomId, IReadOnlyList<TrackedConnection> Connections) room, bool tracked, CancellationToken cancellationToken, bool afterRestore = false)
    {
        try
        {
            await _tickSlots.WaitAsync(cancellationToken);
            try
            {
                await TickRoomAsync(room.RoomId, ToLocal(room.Connections), cancellationToken);
                if (afterRestore)
                {
                    await SendPresenceCatchUpAsync(room.RoomId, cancellationToken);
                }
            }
            finally
            {
                _tickSlots.Release();
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

    private List<LocalConnection> LocalConnectionsOf(string roomId) =>
        membership.Snapshot(id => id == roomId).SelectMany(r => ToLocal(r.Connections)).ToList();

    private List<LocalConnection> ToLocal(IEnumerable<TrackedConnection> connections) =>
        connections.Select(c => new LocalConnection(new ConnectionKey(_options.ReplicaId, c.ConnectionId), c.MemberId, c.TokenRemovalGeneration)).ToList();

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
            FanoutLog.TickFailed(logger, roomId, ex.Code);
        }
    }

    private async Task TickRoomAsync(string roomId, IReadOnlyCollection<LocalConnection> live, CancellationToken cancellationToken)
    {
        try
        {
            SweepOutcome swept;
            var gate = GateOf(roomId);
            await gate.WaitAsync(cancellationToken);
            try
            {
                // Only the connections still joined: one that left after the slice was taken has
                // released its lease (or waits for this gate to), and one that left and is joining
                // again gets its lease from its Join — neither may get one from here.
                var stillHere = live.Where(c => membership.IsJoined(c.Key.ConnectionId, roomId)).ToList();
                swept = await store.SweepPresenceAsync(new PresenceSweep(roomId, stillHere), cancellationToken);
            }
            finally
            {
                gate.Release();
            }

            await EvictRemovedAsync(roomId, swept.Removed);
            membership.SendToRoom(roomId, RoomClientMethods.Position, new RoomPositionMessage(roomId, swept.Position.Epoch, swept.Position.Version));
        }
        catch (RoomException ex)
        {
            // room_not_found: deleted or expired, its members have had the last event; unavailable:
            // the next tick (or the restore) tries again.
            FanoutLog.TickFailed(logger, roomId, ex.Code);
        }
    }
}
