using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Looks after SignalR's backplane links where its channels are sharded (<see cref="ReplicaNodeLinks"/>): a look every
/// <see cref="Every"/>, and looks <see cref="Soon"/> apart while a change of the cluster's shape settles (a failover is
/// one), so that a failover's leftovers go within seconds. Nothing to do where SignalR's channels are classic.
/// </summary>
public sealed class SignalRReplicaLinkSweep(
    SignalRBackplaneConnector connector,
    IOptions<RoomServerOptions> options,
    ILogger<SignalRReplicaLinkSweep> logger) : BackgroundService
{
    /// <summary>Between looks while nothing changes: a leftover the quick looks missed goes within two of these.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(15);

    /// <summary>Between looks after a change: past the few hundred milliseconds the library's restores take.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(2);

    /// <summary>Quick looks after a change: two find a leftover and drop it, the rest catch one formed a little later.</summary>
    private const int QuickLooks = 5;

    /// <summary>Looks in a row that may find the library's roles behind and still look again soon: then it waits for news.</summary>
    private const int StaleLooksSoon = 3;

    private int _quickLooksLeft;

    // Never disposed: no wait handle is taken, and the library may still raise an event as the host stops.
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var multiplexer = await connector.ShardedMultiplexer.WaitAsync(stoppingToken);
        if (multiplexer is null)
        {
            return; // Classic channels: a subscription on any node is where the library means it to be.
        }

        var links = new ReplicaNodeLinks(multiplexer, RedisRoomsExtensions.SignalRClientName(options.Value.ReplicaId), logger);
        multiplexer.ConfigurationChanged += OnChange;
        multiplexer.HashSlotMoved += OnChange;
        multiplexer.ConnectionRestored += OnChange;
        try
        {
            var staleLooks = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                var quick = TakeQuickLook();
                if (await _changed.WaitAsync(quick ? Soon : Every, stoppingToken))
                {
                    await Task.Delay(Soon, stoppingToken); // a change just now: let the library's restores land first
                }

                LinkLook look;
                try
                {
                    look = await links.LookAsync();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Not a reason to stop the replica (an escaping exception stops the host): the next look tries again.
                    RedisLog.ReplicaLinkLookFailed(logger, ex);
                    continue;
                }

                staleLooks = look.Stale ? staleLooks + 1 : 0;
                if (look.Found > 0 || (look.Stale && staleLooks <= StaleLooksSoon))
                {
                    Interlocked.CompareExchange(ref _quickLooksLeft, 1, 0); // the next look, soon
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            multiplexer.ConfigurationChanged -= OnChange;
            multiplexer.HashSlotMoved -= OnChange;
            multiplexer.ConnectionRestored -= OnChange;
        }
    }

    private bool TakeQuickLook()
    {
        while (true)
        {
            var left = Volatile.Read(ref _quickLooksLeft);
            if (left == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _quickLooksLeft, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    private void OnChange(object? sender, EventArgs e)
    {
        Interlocked.Exchange(ref _quickLooksLeft, QuickLooks);
        if (_changed.CurrentCount > 0)
        {
            return; // Already woken (a burst of MOVEDs raises one event each).
        }

        try
        {
            _changed.Release(); // ends a long wait now
        }
        catch (SemaphoreFullException)
        {
            // Woken meanwhile.
        }
    }
}
