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
/// The rooms are spread over the interval (<see cref="SlicesPerInterval"/> slices, by a hash of the
/// room id), not ticked in one burst: a burst of sweep scripts queued every write in Redis behind it
/// and was most of the ack and fan-out p99 in the W1 benchmark (docs/bench).
/// </summary>
public sealed class RoomTicker(
    RoomMembership membership,
    IRoomStore store,
    IRoomBackplane backplane,
    IOptions<RoomServerOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<RoomTicker> logger) : BackgroundService
{
    // Rooms are ticked a few at a time: one slow (or down) Redis must not make a tick take
    // rooms × deadline, and a big replica must not flood Redis with one burst.
    private const int ParallelRoomTicks = 16;

    /// <summary>Each interval is ticked in this many slices, each room in one of them.</summary>
    public const int SlicesPerInterval = 10;

    private readonly RoomServerOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, byte> _graceSweepsPending = new(StringComparer.Ordinal);

    // Fire-and-forget work (grace sweeps, ticks after a restore) ends with the application; the host's
    // own token, not one this service owns, so nothing here can be used after it was disposed.
    private CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>
    /// Sweeps one room after the grace period of a member who just lost a connection, so "offline"
    /// shows promptly. One pending sweep per room: a mass disconnect schedules one, not thousands;
    /// a member whose grace ends after it is caught by the next periodic tick.
    /// </summary>
    public void ScheduleGraceSweep(string roomId)
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
            // Slices run in turn: one that overruns its period delays the next, never skips it, so
            // every room is still ticked once per round.
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.PositionIntervalSeconds) / SlicesPerInterval);
            for (var slice = 0; await timer.WaitForNextTickAsync(stoppingToken); slice = (slice + 1) % SlicesPerInterval)
            {
                await TickAsync(roomId => SliceOf(roomId) == slice, stoppingToken);
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
        await TickAsync(static _ => true, Stopping);
    });

    /// <summary>A room's slice: stable within this process, and different across replicas (the string hash is seeded per process).</summary>
    private static int SliceOf(string roomId) => (int)((uint)StringComparer.Ordinal.GetHashCode(roomId) % SlicesPerInterval);

    /// <summary>Ticks the rooms <paramref name="includeRoom"/> picks.</summary>
    private async Task TickAsync(Func<string, bool> includeRoom, CancellationToken cancellationToken)
    {
        try
        {
            await Parallel.ForEachAsync(
                membership.Snapshot(includeRoom),
                new ParallelOptions { MaxDegreeOfParallelism = ParallelRoomTicks, CancellationToken = cancellationToken },
                async (room, ct) => await TickRoomAsync(room.RoomId, ToLocal(room.Connections), ct));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private List<LocalConnection> LocalConnectionsOf(string roomId) =>
        membership.Snapshot(id => id == roomId).SelectMany(r => ToLocal(r.Connections)).ToList();

    private List<LocalConnection> ToLocal(IEnumerable<TrackedConnection> connections) =>
        connections.Select(c => new LocalConnection(new ConnectionKey(_options.ReplicaId, c.ConnectionId), c.MemberId)).ToList();

    private async Task TickRoomAsync(string roomId, IReadOnlyCollection<LocalConnection> live, CancellationToken cancellationToken)
    {
        try
        {
            var position = await store.SweepPresenceAsync(new PresenceSweep(roomId, live), cancellationToken);
            membership.SendToRoom(roomId, RoomClientMethods.Position, new RoomPositionMessage(roomId, position.Epoch, position.Version));

            // A connection that left while this sweep was in flight had its lease renewed after its
            // leave removed it: release it again (leave is idempotent), or it would show online for
            // a whole lease.
            foreach (var gone in live.Where(c => !membership.IsTracked(roomId, c.Key.ConnectionId)))
            {
                await store.ConnectionLeftAsync(new ConnectionDeparture(roomId, gone.Key), cancellationToken);
            }
        }
        catch (RoomException ex)
        {
            // room_not_found: deleted or expired, its members have had the last event; unavailable:
            // the next tick (or the restore) tries again.
            FanoutLog.TickFailed(logger, roomId, ex.Code);
        }
    }
}
