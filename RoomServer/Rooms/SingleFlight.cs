namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Runs one background job at a time, however often it is asked for: a request while the job runs makes it
/// run once more after (the run under way may have read what it works on before that request). Whatever the
/// job throws is handed to <paramref name="onFault"/> and releases the runner, so a fault never leaves it
/// marked running for good, where no later request would run the job again. Nothing starts once
/// <paramref name="stopping"/> is cancelled.
/// </summary>
public sealed class SingleFlight(Action<Exception> onFault, CancellationToken stopping)
{
    private Func<Task>? _job;
    private int _running;
    private int _requested;

    /// <summary>Asks for <paramref name="job"/> (the same one at every request) to run, now or after the run under way.</summary>
    public void Request(Func<Task> job)
    {
        Volatile.Write(ref _job, job);
        Volatile.Write(ref _requested, 1);
        if (!stopping.IsCancellationRequested && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = Task.Run(RunAsync);
        }
    }

    /// <summary>For a job that has just read what it works on: the requests made so far are answered by this run.</summary>
    public void AnswerRequestsSoFar() => Interlocked.Exchange(ref _requested, 0); // a full fence, as in RunAsync

    private async Task RunAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1 && !stopping.IsCancellationRequested)
            {
                await Volatile.Read(ref _job)!();
            }
        }
        catch (Exception ex)
        {
            onFault(ex);
        }
        finally
        {
            // A full fence between this store and the load below (a volatile write may pass a later read): else
            // this runner and a request's compare-exchange could each read the other's old value.
            Interlocked.Exchange(ref _running, 0);

            // A request that came after the last check and saw the runner still running is taken here.
            if (Volatile.Read(ref _requested) == 1 && Volatile.Read(ref _job) is { } job)
            {
                Request(job);
            }
        }
    }
}
