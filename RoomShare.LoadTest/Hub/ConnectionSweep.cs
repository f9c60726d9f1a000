using System.Net.WebSockets;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// Visits every connection once per period, spread over the period in slices, until disposed: one loop for
/// all connections instead of a timer each. Pings keep idle connections alive (the server drops a client
/// silent for 30 s; every connection once per 10 s); acks are what a stateful-reconnect client owes
/// (<see cref="LeanHubConnection.AckAsync"/>; every connection at most once a second, as the JavaScript
/// client's one-second ack timer does). The ack sweep reads the connection list afresh for each slice, so a
/// connection opened mid-period (a join ramp's) is acked within a second; the ping sweep once a period, as it
/// always has (a copy of the list each slice would be garbage in the generator for every arm). Disposing waits
/// for the visits under way, so none runs after the connections are closed.
/// </summary>
public sealed class ConnectionSweep : IAsyncDisposable
{
    private const int Slices = 20;
    private static readonly TimeSpan VisitsGrace = TimeSpan.FromSeconds(5);

    private readonly Func<IReadOnlyList<LeanHubConnection>> _connections;
    private readonly TimeSpan _period;
    private readonly Func<LeanHubConnection, ValueTask> _visit;
    private readonly bool _freshListEachSlice;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _visits = [];
    private readonly Task _loop;

    private ConnectionSweep(Func<IReadOnlyList<LeanHubConnection>> connections, TimeSpan period, Func<LeanHubConnection, ValueTask> visit, bool freshListEachSlice)
    {
        _connections = connections;
        _period = period;
        _visit = visit;
        _freshListEachSlice = freshListEachSlice;
        _loop = Task.Run(RunAsync);
    }

    public static ConnectionSweep Pings(Func<IReadOnlyList<LeanHubConnection>> connections) =>
        new(connections, TimeSpan.FromSeconds(10), connection => connection.PingAsync(), freshListEachSlice: false);

    /// <summary>Acks, for members that connect as the web client does (negotiate with stateful reconnect); null for the others.</summary>
    public static ConnectionSweep? Acks(bool webClient, Func<IReadOnlyList<LeanHubConnection>> connections) =>
        webClient ? new(connections, TimeSpan.FromSeconds(1), connection => connection.AckAsync(), freshListEachSlice: true) : null;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        try
        {
            // Only the loop touched the list, and it has ended. Bounded: a send stuck on a socket the server stopped
            // reading is ended by the connection's close, which comes after this.
            await Task.WhenAll(_visits).WaitAsync(VisitsGrace);
        }
        catch (TimeoutException)
        {
            // left to the connections' close
        }

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
                    if (_freshListEachSlice && slice > 0)
                    {
                        all = _connections();
                    }

                    _visits.RemoveAll(visit => visit.IsCompleted);
                    for (var i = slice; i < all.Count; i += Slices)
                    {
                        _visits.Add(VisitQuietlyAsync(all[i]));
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
