using System.Diagnostics;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// An open-loop schedule on a thread of its own: item i is due at t0 + i/rate and is dispatched as soon as
/// it is due, however the previous ones fare (never slowed down by slow answers, never skipped when late).
/// Between dispatches the thread sleeps ~1 ms instead of spinning, so the generator leaves the cores to the
/// servers; the lateness this adds is recorded as send lag, and latencies are taken from the intended time.
/// </summary>
public static class OpenLoop
{
    /// <summary>
    /// Dispatches <paramref name="count"/> items at <paramref name="ratePerSecond"/>, calling
    /// <paramref name="dispatch"/>(i, intendedAt, now) on the loop's thread; completes at the intended end
    /// of the schedule (t0 + count/rate), or early when cancelled.
    /// </summary>
    public static Task RunAsync(double ratePerSecond, int count, Action<int, long, long> dispatch, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                ScheduleThreadPriority.RaiseCurrentThread();
                Run(ratePerSecond, count, dispatch, cancellationToken);
                done.TrySetResult();
            }
            catch (OperationCanceledException ex)
            {
                done.TrySetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "open-loop schedule",
        };
        thread.Start();
        return done.Task;
    }

    private static void Run(double ratePerSecond, int count, Action<int, long, long> dispatch, CancellationToken cancellationToken)
    {
        var interval = Stopwatch.Frequency / ratePerSecond;
        var t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20); // 50 ms to let the caller get ready
        long Due(int i) => t0 + (long)(i * interval);

        var next = 0;
        while (next < count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = Stopwatch.GetTimestamp();
            while (next < count && Due(next) <= now)
            {
                dispatch(next, Due(next), now);
                next++;
                now = Stopwatch.GetTimestamp();
            }

            if (next < count)
            {
                SleepUntil(Due(next));
            }
        }

        SleepUntil(Due(count));
    }

    private static void SleepUntil(long timestamp)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            Thread.Sleep(remaining < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : remaining);
        }
    }
}
