using System.Diagnostics;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// Measures how long a work item waits for a thread-pool thread in this generator, every 5 ms: the
/// receive loops run there, so when this delay grows the generator — not the servers — is adding latency.
/// The probe itself runs on a thread of its own (a Timer would wait in the same queue it measures).
/// </summary>
public sealed class ThreadPoolProbe : IDisposable
{
    private const int PeriodMilliseconds = 5;

    private readonly Thread _thread;
    private volatile bool _stopping;
    private LatencyHistogram _delays = new();

    public ThreadPoolProbe()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "thread-pool probe" };
        _thread.Start();
    }

    /// <summary>Starts afresh: what was measured so far is dropped (a step's warm-up, say).</summary>
    public void Restart() => Volatile.Read(ref _delays).Reset();

    /// <summary>Returns what was measured since the last call (or <see cref="Restart"/>) and starts afresh.</summary>
    public LatencySummary TakeSummary() => Interlocked.Exchange(ref _delays, new LatencyHistogram()).Summarize();

    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(1));
    }

    private void Run()
    {
        while (!_stopping)
        {
            var queued = Stopwatch.GetTimestamp();
            var histogram = _delays;
            ThreadPool.UnsafeQueueUserWorkItem(_ => histogram.Record(queued, Stopwatch.GetTimestamp()), null);
            Thread.Sleep(PeriodMilliseconds);
        }
    }
}
