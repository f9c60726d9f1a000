namespace RoomShare.LoadTest.Hub;

/// <summary>
/// Keeps idle connections alive with SignalR pings (the server drops a client silent for 30 s): one loop
/// for all connections instead of a timer each, every connection once per 10 s, spread over the period.
/// </summary>
public sealed class PingPump : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private readonly Func<IReadOnlyList<LeanHubConnection>> _connections;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PingPump(Func<IReadOnlyList<LeanHubConnection>> connections)
    {
        _connections = connections;
        _loop = Task.Run(RunAsync);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        const int Slices = 20;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var all = _connections();
                for (var slice = 0; slice < Slices; slice++)
                {
                    for (var i = slice; i < all.Count; i += Slices)
                    {
                        _ = PingQuietlyAsync(all[i]);
                    }

                    await Task.Delay(Period / Slices, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private static async Task PingQuietlyAsync(LeanHubConnection connection)
    {
        try
        {
            await connection.PingAsync();
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // A dead connection is counted by its receive loop, not here.
        }
    }
}
