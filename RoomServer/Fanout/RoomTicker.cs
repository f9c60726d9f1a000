using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Every <c>PositionIntervalSeconds</c>, and right after the backplane is restored, ticks each room
/// this replica has members in: renews the presence leases of its connections, sweeps dead ones
/// (announcing members offline after the grace period), and sends the room's position to its local
/// members — so a member whose last event was lost by pub/sub notices and calls <c>Join(since)</c>.
/// </summary>
public sealed class RoomTicker(
    RoomSubscriptions subscriptions,
    IRoomStore store,
    IRoomBackplane backplane,
    RoomFanout fanout,
    IOptions<RoomServerOptions> options,
    ILogger<RoomTicker> logger) : BackgroundService
{
    // Rooms are ticked a few at a time: one slow (or down) Redis must not make a tick take
    // rooms × deadline, and a big replica must not flood Redis with one burst.
    private const int ParallelRoomTicks = 16;

    private readonly RoomServerOptions _options = options.Value;

    /// <summary>Sweeps one room after the grace period of a member who just lost a connection.</summary>
    public void ScheduleGraceSweep(string roomId)
    {
        var delay = TimeSpan.FromSeconds(_options.PresenceGraceSeconds) + TimeSpan.FromMilliseconds(200);
        _ = Task.Delay(delay).ContinueWith(_ => TickRoomAsync(roomId, [], CancellationToken.None), TaskScheduler.Default);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        backplane.Restored += OnBackplaneRestored;
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.PositionIntervalSeconds));
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TickAllAsync(stoppingToken);
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
        var rooms = await subscriptions.SnapshotAsync(CancellationToken.None);
        FanoutLog.SendingPositionsAfterRestore(logger, rooms.Count);
        await TickAllAsync(CancellationToken.None);
    });

    private async Task TickAllAsync(CancellationToken cancellationToken)
    {
        var rooms = await subscriptions.SnapshotAsync(cancellationToken);
        await Parallel.ForEachAsync(
            rooms,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRoomTicks, CancellationToken = cancellationToken },
            async (room, ct) =>
            {
                var live = room.ConnectionIds.Select(id => new ConnectionKey(_options.ReplicaId, id)).ToList();
                await TickRoomAsync(room.RoomId, live, ct);
            });
    }

    private async Task TickRoomAsync(string roomId, IReadOnlyCollection<ConnectionKey> live, CancellationToken cancellationToken)
    {
        try
        {
            var position = await store.SweepPresenceAsync(roomId, live, cancellationToken);
            fanout.SendPosition(roomId, position);
        }
        catch (RoomException ex)
        {
            // room_not_found: deleted or expired, its members have had the last event; unavailable:
            // the next tick (or the restore) tries again.
            FanoutLog.TickFailed(logger, roomId, ex.Code);
        }
    }
}
