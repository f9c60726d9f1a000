namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One more look at a replica's subscriptions a moment after it re-checked them: a failover's doubled subscription (the
/// client library's race, <see cref="RedisConnection.UnsubscribeEverywhereAsync"/>) may form just after that check's
/// probe, and a channel with no traffic would not show it. Requests while a look waits share it.
/// </summary>
internal sealed class SecondLook(CancellationToken stopping)
{
    /// <summary>How long after the request the look runs: past the few hundred milliseconds a failover's restores take.</summary>
    public static readonly TimeSpan After = TimeSpan.FromSeconds(5);

    private int _pending;

    /// <summary>Runs <paramref name="look"/> <see cref="After"/> from now, unless one is waiting already or the replica stops first.</summary>
    public void Request(Func<Task> look)
    {
        if (Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(After, stopping);
                await look();
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopping.
            }
            finally
            {
                Volatile.Write(ref _pending, 0);
            }
        });
    }
}
