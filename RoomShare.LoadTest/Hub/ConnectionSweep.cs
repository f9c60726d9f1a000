using System.Net.WebSockets;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// Visits every connection once per period, spread over the period in slices, until disposed: one loop for
/// all connections instead of a timer each. Pings keep idle connections alive (the server drops a client
/// silent for 30 s; every connection once per 10 s); acks are what a stateful-reconnect client owes
/// (<see cref="LeanHubConnection.AckAsync"/>; every connection at most once a second, as the JavaScript
/// client's one-second ack timer does).
/// </summary>
public sealed class ConnectionSweep : IAsyncDisposable
{
    private const int Slices = 20;

    private readonly Func<IReadOnlyList<LeanHubConnection>> _connections;
    private readonly TimeSpan _period;
    private readonly Func<LeanHubConnection, ValueTask> _visit;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ConnectionSweep(Func<IReadOnlyList<LeanHubConnection>> connections, TimeSpan period, Func<LeanHubConnection, ValueTask> visit)
    {
        _connections = connections;
        _period = period;
        _visit = visit;
        _loop = Task.Run(RunAsync);
    }

    public static ConnectionSweep Pings(Func<IReadOnlyList<LeanHubConnection>> connections) =>
        new(connections, TimeSpan.FromSeconds(10), connection => connection.PingAsync());

    /// <summary>Acks for the connections that negotiated stateful reconnect; null when the members do not (nothing to sweep).</summary>
    public static ConnectionSweep? Acks(bool statefulReconnect, Func<IReadOnlyList<LeanHubConnection>> connections) =>
        statefulReconnect ? new(connections, TimeSpan.FromSeconds(1), connection => connection.AckAsync()) : null;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var all = _connections();
                for (var slice = 0; slice < Slices; slice++)
                {
                    for (var i = slice; i < all.Count; i += Slices)
                    {
                        _ = VisitQuietlyAsync(all[i]);
                    }

                    await Task.Delay(_period / Slices, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task VisitQuietlyAsync(LeanHubConnection connection)
    {
        try
        {
            await _visit(connection);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // A dead connection is counted by its receive loop, not here.
        }
    }
}
