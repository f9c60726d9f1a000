namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Samples a process's resident memory from /proc every few milliseconds until disposed, keeping the
/// peak: a fault's cost is its peak, which a before/after pair of readings can miss.
/// </summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    private RssSampler(int pid, TimeSpan interval)
    {
        _peak = ProcessMemory.RssBytes(pid);
        _loop = Task.Run(async () =>
        {
            // Bounded by disposal (or the process exiting).
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var rss = ProcessMemory.RssBytes(pid);
                    if (rss > Interlocked.Read(ref _peak))
                    {
                        Interlocked.Exchange(ref _peak, rss);
                    }

                    await Task.Delay(interval, _stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>The highest RSS seen so far, in bytes.</summary>
    public long PeakBytes => Interlocked.Read(ref _peak);

    public static RssSampler Start(int pid, TimeSpan interval) => new(pid, interval);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
