using System.Diagnostics;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Measures how long this test process was held up while it watched something: a timer due every
/// 10 ms on the thread pool, like the test's own clients' callbacks, and the longest it came late.
/// When a loaded box stalls the process, every client sees what happened meanwhile at once, so a
/// test that times clients can tell its own stall from the server's.
/// </summary>
public sealed class StallWatch : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _longestLateTicks;

    private StallWatch()
    {
        _loop = Task.Run(async () =>
        {
            // Bounded by disposal.
            var clock = Stopwatch.StartNew();
            while (!_stop.IsCancellationRequested)
            {
                var before = clock.Elapsed;
                try
                {
                    await Task.Delay(Interval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                var late = (clock.Elapsed - before - Interval).Ticks;
                if (late > Interlocked.Read(ref _longestLateTicks))
                {
                    Interlocked.Exchange(ref _longestLateTicks, late);
                }
            }
        });
    }

    /// <summary>The longest this process's 10 ms timer came late so far.</summary>
    public TimeSpan LongestStall => TimeSpan.FromTicks(Interlocked.Read(ref _longestLateTicks));

    public static StallWatch Start() => new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
