namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One more look at a replica's subscriptions a moment after it re-checked them: a failover's doubled subscription (the
/// client library's race, <see cref="RedisConnection.UnsubscribeEverywhereAsync"/>) may form just after that check's
/// probe, and a channel with no traffic would not show it. Requests while a look waits share it.
/// </summary>
internal sealed class SecondLook(Action<Exception> onFault, CancellationToken stopping)
{
    /// <summary>How long after the request the look runs: past the few hundred milliseconds a failover's restores take.</summary>
    public static readonly TimeSpan After = TimeSpan.FromSeconds(5);

    private int _pending;

    /// <summary>
    /// Runs <paramref name="look"/> <see cref="After"/> from now, unless one is waiting already or the replica stops first.
    /// A request while a look runs waits for one of its own. What the look throws goes to <c>onFault</c>.
    /// </summary>
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
            }
            catch (OperationCanceledException)
            {
                Volatile.Write(ref _pending, 0);
                return; // Stopping.
            }

            // Cleared before the look: a request made while it runs (a pass that ended meanwhile) gets a look of its own.
            Volatile.Write(ref _pending, 0);
            try
            {
                await look();
            }
            catch (Exception ex)
            {
                onFault(ex);
            }
        });
    }
}
