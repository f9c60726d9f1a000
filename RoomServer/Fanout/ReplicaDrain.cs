using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The graceful stop of a replica (DESIGN.md §9). It runs inside the host's ApplicationStopping
/// signal, before anything else reacts to it: SignalR's connection manager closes every connection
/// at once on that signal, and token callbacks run newest first, so this one — registered after the
/// app has started — runs (and finishes) before it, and before any hosted service stops:
/// 1. <see cref="IsDraining"/> turns on: <c>/readyz</c> fails, new hub connections get 503 (nginx tries
///    another replica; <see cref="RoomShare.RoomServer.Hubs.DrainGate"/> still serves the polls and sends of the long-polling
///    connections held here), and new hub calls answer <c>unavailable</c>;
/// 2. once the calls in flight have finished and their answers are written, members are closed in staggered batches (a long-polling
///    member's waiting poll, or its next one, carries the close message, and the poll after that ends with a 204), so they
///    reconnect through nginx to other replicas a few at a time and resume with <c>Join(since)</c>;
/// 3. it waits until those connections' transports have ended, and returns within most of <c>DrainSeconds</c>,
///    leaving Kestrel the rest to finish;
/// 4. only then does the replica's own background work stop (<see cref="ReplicaShutdown"/>): the host's stopping token
///    is cancelled for the whole drain, while members are still here to be served — a member removed meanwhile is
///    told <c>Removed</c> and closed for good, not closed by a batch allowing a reconnect.
/// </summary>
public sealed class ReplicaDrain(
    RoomMembership membership,
    IHostApplicationLifetime lifetime,
    ReplicaShutdown shutdown,
    IOptions<RoomServerOptions> options,
    ILogger<ReplicaDrain> logger) : IHostedService
{
    private const int Batches = 10;
    private int _draining;
    private int _callsInFlight;

    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    /// <summary>Counts a hub call for the drain to wait on; false when draining (refuse the call).</summary>
    public bool TryBeginCall()
    {
        Interlocked.Increment(ref _callsInFlight);
        if (!IsDraining)
        {
            return true;
        }

        EndCall();
        return false;
    }

    public void EndCall() => Interlocked.Decrement(ref _callsInFlight);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Blocking is deliberate: the host stops nothing else until its stopping callbacks return.
        lifetime.ApplicationStopping.Register(() =>
        {
            try
            {
                DrainAsync().GetAwaiter().GetResult();
            }
            finally
            {
                // Only now: until the last member is closed, removals, sweeps and catch-ups still serve them.
                shutdown.Stop();
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopped already after the drain; here too for a host stopping without it (a start that failed part-way).
        shutdown.Stop();
        return Task.CompletedTask;
    }

    private async Task DrainAsync()
    {
        // A full fence before the calls in flight are read, as TryBeginCall's increment is before it reads this.
        Interlocked.Exchange(ref _draining, 1);
        var budget = TimeSpan.FromSeconds(options.Value.DrainSeconds * 0.8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var connections = membership.AllConnections();
        FanoutLog.Draining(logger, connections.Count, options.Value.DrainSeconds);

        // Calls already running finish (bounded): their acknowledgements reach the clients — a call counts until
        // SignalR has written its answer (DrainCountedCall), not just until the hub filter returns. A quarter of the
        // budget, or as long as one store call may take (a confirmed write's WAIT runs to the deadline) when
        // that is longer — a call cut short is applied without its answer, and a retry without an opId would
        // apply it twice — but at most half of it: the other half staggers the closes.
        var callsWait = TimeSpan.FromMilliseconds(Math.Max(budget.TotalMilliseconds / 4, options.Value.StoreTimeoutMilliseconds + 100));
        if (callsWait > budget / 2)
        {
            callsWait = budget / 2;
        }

        while (Volatile.Read(ref _callsInFlight) > 0 && clock.Elapsed < callsWait)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        var batches = connections.Chunk(Math.Max(1, (int)Math.Ceiling(connections.Count / (double)Batches))).ToList();
        var pause = budget / 2 / Batches;
        for (var i = 0; i < batches.Count; i++)
        {
            foreach (var connection in batches[i])
            {
                connection.CloseAllowingReconnect();
            }

            FanoutLog.DrainBatch(logger, i + 1, batches.Count, batches[i].Length, (long)clock.Elapsed.TotalMilliseconds);
            if (i < batches.Count - 1 && clock.Elapsed + pause < budget)
            {
                await Task.Delay(pause, CancellationToken.None);
            }
        }

        // A connection whose upgrade passed the gate just before the drain began may have finished its handshake since
        // the list was taken: it is closed now, last, rather than dropped unwarned when SignalR stops.
        var late = membership.AllConnections().Except(connections).ToList();
        foreach (var connection in late)
        {
            connection.CloseAllowingReconnect();
        }

        var all = connections.Concat(late).ToList();
        var open = await WaitUntilEndedAsync(all, () => clock.Elapsed < budget);
        FanoutLog.Drained(logger, all.Count - open, open, (long)clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// A close is only requested by the batches. Once the drain returns, SignalR disposes every connection it still has,
    /// and a long-polling member whose close message still waits for a poll would find its connection gone (a 404) instead
    /// of the close that tells it to reconnect. So the drain waits, while <paramref name="timeLeft"/>, until each transport
    /// has ended: a WebSocket once its closing handshake is done (or SignalR gives up on it), a long-polling connection once
    /// its client has collected the close and ended the connection (its next poll's 204, or its DELETE). Returns how many
    /// are still open.
    /// </summary>
    private static async Task<int> WaitUntilEndedAsync(IEnumerable<HubConnectionContext> connections, Func<bool> timeLeft)
    {
        var open = connections.Where(c => !TransportEnded(c)).ToList();
        while (open.Count > 0 && timeLeft())
        {
            await Task.Delay(20, CancellationToken.None);
            open.RemoveAll(TransportEnded);
        }

        return open.Count;
    }

    // SignalR's HTTP connections signal ConnectionClosed when they dispose the transport. A connection that could not be
    // asked to close (ReconnectableClose aborted it instead, which does not signal) or cannot tell is not waited for.
    private static bool TransportEnded(HubConnectionContext connection) =>
        connection.Features.Get<IConnectionLifetimeNotificationFeature>() is null
        || connection.Features.Get<IConnectionLifetimeFeature>() is not { } lifetime
        || lifetime.ConnectionClosed.IsCancellationRequested;
}
