using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Closes the connections of members removed while this replica could not hear the removal broadcast
/// (<see cref="IMemberRemovalBroadcast"/>: pub/sub, at most once — a removal published during a Redis outage
/// or a dropped subscription is never delivered). Each time the broadcast is subscribed again after a loss
/// (at most one sweep per <see cref="MinInterval"/>, requests meanwhile coalesced into one after it) it asks the store
/// for the removal generation of every member this replica holds a connection of, joined or not — one lookup
/// per room and member, a batch in flight at a time (the store's client pipelines them) — and closes, as
/// <see cref="RemovedMemberEviction"/> does, those whose token predates their member's last removal. A joined
/// one is found by its room's tick too; a device that never joined only here. Those the store still could not
/// answer after <see cref="Rounds"/> (a cluster shard failing over for longer) are kept and asked again with
/// backoff, on their own, until answered or no connection of theirs remains here: the shard's recovery may
/// raise no event at all (a promoted replica is a new endpoint, nothing re-subscribes).
/// </summary>
public sealed class RemovalCatchUp(
    RoomMembership membership,
    IRoomStore store,
    IMemberRemovalBroadcast removals,
    ReplicaShutdown shutdown,
    TimeProvider time,
    ILogger<RemovalCatchUp> logger) : IHostedService
{
    /// <summary>Lookups in flight at once: a replica holding thousands of members does not queue them all on Redis at once.</summary>
    private const int BatchSize = 64;

    /// <summary>Rounds of lookups in all, a second apart: the first, then up to 4 retries of those the store did not answer (Redis still coming back).</summary>
    private const int Rounds = 5;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Backoff of the lookups left unanswered after a sweep: from the first retry to the longest wait between two.</summary>
    private static readonly TimeSpan LeftFirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeftMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Least time from one sweep that read the store to the next: a subscription that keeps coming back (a
    /// flapping link, a cluster failing over) must not turn into back-to-back sweeps of every member held here.
    /// Requests within it are coalesced into one sweep once it has passed.
    /// </summary>
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(10);

    /// <summary>When the last sweep that read the store began (<see cref="TimeProvider.GetTimestamp"/>); null before the first.</summary>
    private long? _lastSweep;

    /// <summary>The sweeps: one at a time, a request while one runs answered by one more after it, spaced by <see cref="MinInterval"/>.</summary>
    private readonly SingleFlight _sweeps = new(ex => FanoutLog.RemovalCatchUpCrashed(logger, ex), shutdown.Token);

    /// <summary>Room and member pairs a sweep could not look up, retried by <see cref="RetryLeftAsync"/>; under their own lock.</summary>
    private readonly HashSet<(string RoomId, string MemberId)> _left = [];

    /// <summary>The retries of <see cref="_left"/>, on their own; asked for whenever a pair is left.</summary>
    private readonly SingleFlight _leftRetries = new(ex => FanoutLog.RemovalCatchUpCrashed(logger, ex), shutdown.Token);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        removals.Resubscribed += Request;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        removals.Resubscribed -= Request;
        return Task.CompletedTask;
    }

    private void Request() => _sweeps.Request(SweepAsync);

    /// <summary>
    /// One sweep, no sooner than <see cref="MinInterval"/> after the last (it may have read the members before a
    /// new loss, so a request while it runs gets one more after it).
    /// </summary>
    private async Task SweepAsync()
    {
        if (!await WaitOutIntervalAsync())
        {
            return;
        }

        // Requests made while it waited are answered by this sweep: it reads the members held after them.
        _sweeps.AnswerRequestsSoFar();
        await CatchUpAsync();
    }

    private async Task CatchUpAsync()
    {
        var stopping = shutdown.Token;
        var pending = membership.MembersHeld();
        if (pending.Count == 0)
        {
            return;
        }

        _lastSweep = time.GetTimestamp();
        var members = pending.Count;
        var closed = 0;
        for (var round = 1; ; round++)
        {
            var (closedNow, unanswered) = await LookUpAndCloseAsync(pending, stopping);
            closed += closedNow;
            pending = unanswered;
            if (pending.Count == 0 || round == Rounds || !await DelayAsync(RetryDelay, stopping))
            {
                break;
            }
        }

        FanoutLog.RemovalCatchUp(logger, members, closed, pending.Count);
        Leave([.. pending]);
    }

    /// <summary>Looks up every member given, a batch at a time, and closes the removed ones' connections; returns those unanswered.</summary>
    private async Task<(int Closed, List<TrackedMember> Unanswered)> LookUpAndCloseAsync(IReadOnlyList<TrackedMember> members, CancellationToken stopping)
    {
        var closed = 0;
        var unanswered = new List<TrackedMember>();
        foreach (var batch in members.Chunk(BatchSize))
        {
            // Started together, so they go to Redis as one pipeline.
            var lookups = batch.Select(m => (Member: m, Generation: LookUpAsync(m, stopping))).ToList();
            foreach (var (member, lookup) in lookups)
            {
                if (await lookup is not { } generation)
                {
                    unanswered.Add(member);
                }
                else if (generation > member.TokenRemovalGeneration)
                {
                    closed += Close(member, generation);
                }
            }
        }

        return (closed, unanswered);
    }

    /// <summary>Keeps the pairs a sweep could not answer and makes sure they are being retried.</summary>
    private void Leave(List<TrackedMember> unanswered)
    {
        if (unanswered.Count == 0)
        {
            return;
        }

        lock (_left)
        {
            _left.UnionWith(unanswered.Select(m => (m.RoomId, m.MemberId)));
        }

        _leftRetries.Request(RetryLeftAsync);
    }

    /// <summary>
    /// Takes the pairs left unanswered that still have a connection here, as held now (a connection that came
    /// since may carry an older token): bounded by the connections held, and a pair whose devices all went is dropped.
    /// </summary>
    private List<TrackedMember> TakeLeft()
    {
        lock (_left)
        {
            var held = membership.MembersHeld().Where(m => _left.Contains((m.RoomId, m.MemberId))).ToList();
            _left.Clear();
            return held;
        }
    }

    /// <summary>
    /// Asks the store again, with backoff, about the pairs left unanswered, until none is left; independent of
    /// new re-subscriptions (run by <see cref="_leftRetries"/>: a fault releases it, and the next pair left starts it again).
    /// </summary>
    private async Task RetryLeftAsync()
    {
        var stopping = shutdown.Token;
        var delay = LeftFirstDelay;
        while (await DelayAsync(delay, stopping))
        {
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LeftMaxDelay.Ticks));
            var left = TakeLeft();
            if (left.Count == 0)
            {
                return;
            }

            var (closed, unanswered) = await LookUpAndCloseAsync(left, stopping);
            FanoutLog.RemovalCatchUpRetried(logger, left.Count, closed, unanswered.Count);
            lock (_left)
            {
                _left.UnionWith(unanswered.Select(m => (m.RoomId, m.MemberId)));
            }
        }
    }

    /// <summary>The member's removal generation; null when the store could not say.</summary>
    private async Task<long?> LookUpAsync(TrackedMember member, CancellationToken stopping)
    {
        try
        {
            return await store.RemovalGenerationAsync(member.RoomId, member.MemberId, stopping);
        }
        catch (Exception ex) when (ex is RoomException or OperationCanceledException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>
    /// Tells and closes the member's connections whose token predates <paramref name="generation"/>; a re-admitted
    /// device keeps its own. Not awaited: a connection slow to take its notice must not hold up the sweep.
    /// </summary>
    private int Close(TrackedMember member, long generation)
    {
        var connections = membership.ConnectionsRemovedBy(member.RoomId, member.MemberId, generation);

        // Only the generation is known here, not who made the removal (DESIGN.md §3: by is null then).
        var notice = new MemberRemovedNotice(member.RoomId, member.MemberId, By: null);
        foreach (var connection in connections)
        {
            _ = connection.TellRemovedAndCloseAsync(notice, logger);
        }

        return connections.Count;
    }

    /// <summary>Waits until <see cref="MinInterval"/> has passed since the last sweep; false when the replica stops first.</summary>
    private async Task<bool> WaitOutIntervalAsync()
    {
        if (_lastSweep is not { } last || MinInterval - time.GetElapsedTime(last) is not { Ticks: > 0 } remaining)
        {
            return true;
        }

        try
        {
            await Task.Delay(remaining, time, shutdown.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, time, stopping);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
