using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Runs on every replica (DESIGN.md §8). Polls the outbox index (and hears this replica's own
/// transitions at once), and for each room delivers its records one at a time, in version order, to
/// every configured endpoint. A record is held by one replica at a time; the holder renews its claim
/// while it retries, so a replica that dies mid-delivery leaves the record to be taken over after
/// <c>ClaimTimeoutSeconds</c>. An endpoint that refuses <c>MaxAttempts</c> times gets a dead letter and
/// the room's next record goes on.
/// </summary>
public sealed class OrderDeliveryWorker : BackgroundService
{
    /// <summary>
    /// Rooms this replica has in delivery at once; more wait for the next poll (a warning says so, at
    /// most once a minute). A room in delivery mostly waits (for a free request, a retry's backoff, its
    /// claim's renewal): the requests themselves are bounded per endpoint by <c>MaxConcurrentRequests</c>,
    /// so rooms stuck on a failing endpoint leave the other endpoints and rooms theirs.
    /// </summary>
    public const int MaxRoomsInDelivery = 1000;

    /// <summary>
    /// The most rooms of the index a poll reads: a replica reads past the rooms it knows it will not start
    /// (held by another replica, left for the others, or in delivery here), so that with more rooms waiting
    /// than one replica takes, the others find the rest instead of the same busy thousand.
    /// </summary>
    public const int MaxRoomsPerPoll = 10 * MaxRoomsInDelivery;

    private static readonly TimeSpan CapWarningInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Task> _active = new(StringComparer.Ordinal);

    /// <summary>
    /// Rooms this replica announced while their delivery here was under way, with the announcement's mark. The run may
    /// have made its last claim before the new record was written, and then forget the room in the index (by its own
    /// mark: one the failed announcement left there, or the same millisecond's), so the room is started again when the
    /// run ends rather than wait for a sweep. <see cref="_runGate"/> guards it with a run's start and end in
    /// <see cref="_active"/>, so an announcement is either seen by the next run or noted for it.
    /// </summary>
    private readonly Dictionary<string, long> _announcedDuringRun = new(StringComparer.Ordinal);

    private readonly Lock _runGate = new();

    /// <summary>This replica's announcements under way (each on its own task), awaited when the worker stops.</summary>
    private readonly ConcurrentDictionary<Task, byte> _announcing = new();

    /// <summary>
    /// Rooms another replica was delivering when this one last tried, and until when to leave them be:
    /// until the holder's claim could lapse, at most a third of the timeout (its renewal period). Trying
    /// sooner only costs a claim script a room a poll (with an endpoint down, one for each of a thousand
    /// rooms a second). The worker's loop and the room tasks write it (hence concurrent).
    /// </summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _heldElsewhere = new(StringComparer.Ordinal);

    /// <summary>
    /// Rooms whose oldest record this replica could not read, and until when it stays away so the other
    /// replicas claim that record first. Unlike <see cref="_heldElsewhere"/> this holds against this
    /// replica's own announcements too: its room's next transition would otherwise claim the record again.
    /// </summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _leftForOthers = new(StringComparer.Ordinal);

    private int _inDelivery;
    private DateTimeOffset _capWarnedAt = DateTimeOffset.MinValue;

    private readonly IOrderOutbox _outbox;
    private readonly OrderOutboxSignal _signal;
    private readonly IOrderClaimPermit _permit;
    private readonly TimeProvider _time;
    private readonly ILogger<OrderDeliveryWorker> _logger;
    private readonly WebhookOptions _webhooks;
    private readonly string _consumer;

    // One keeper for every room here: it remembers whether the loss of the permit was logged (6018), so that is once per loss.
    private readonly OrderClaimKeeper _claims;
    private readonly OrderRecordDelivery _delivery;

    public OrderDeliveryWorker(
        IOrderOutbox outbox,
        OrderOutboxSignal signal,
        IOrderClaimPermit permit,
        WebhookSender sender,
        WebhookMetrics metrics,
        IOptions<RoomServerOptions> options,
        TimeProvider time,
        ILogger<OrderDeliveryWorker> logger)
    {
        _outbox = outbox;
        _signal = signal;
        _permit = permit;
        _time = time;
        _logger = logger;
        _webhooks = options.Value.Webhooks;
        _consumer = options.Value.ReplicaId;
        _claims = new OrderClaimKeeper(outbox, permit, options, time, logger);
        _delivery = new OrderRecordDelivery(outbox, sender, metrics, _claims, options, time, logger);
    }

    private TimeSpan ClaimTimeout => TimeSpan.FromSeconds(_webhooks.ClaimTimeoutSeconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        OrdersLog.Started(_logger, _webhooks.Endpoints.Count, _webhooks.MaxAttempts, _webhooks.TimeoutSeconds);

        // Beside the poll, never inside it: a sweep takes as long as the keyspace is large, and meanwhile this
        // replica's own transitions must still start at once.
        var sweeping = SweepEveryIntervalAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                ForgetExpiredHolds();
                // As many rooms as it has room for, past those it knows it will not start.
                var free = Math.Max(0, MaxRoomsInDelivery - Volatile.Read(ref _inDelivery));
                var window = Math.Min(MaxRoomsPerPoll, free + _active.Count + _heldElsewhere.Count + _leftForOthers.Count);
                foreach (var room in await _outbox.RoomsWithWorkAsync(window))
                {
                    Start(room, announced: false, stoppingToken);
                }

                await WaitForWorkAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever failed (Redis away, a malformed record), the worker must not stop the replica
                // (an escaping exception stops the host): log it and poll again.
                OrdersLog.PollFailed(_logger, ex.Message, ex is RoomException ? null : ex);

                // Only the index's read failed: this replica's own transitions still start as they come.
                await WaitForWorkAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll([sweeping, .. _announcing.Keys, .. _active.Values]).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Indexes outboxes no announcement reached (<see cref="IOrderOutbox.SweepAsync"/>), at start and every sweep interval.</summary>
    private async Task SweepEveryIntervalAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(_webhooks.SweepIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = _time.GetTimestamp();
            try
            {
                await _outbox.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever failed, the next sweep comes: this loop ends only with the replica.
                OrdersLog.SweepFailed(_logger, ex.Message, ex is RoomException ? null : ex);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // A sweep starts every interval (a long one shortens the wait after it), as the setting says.
            var wait = interval - _time.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Until the poll interval passes, or this replica's store reports a transition (then that room starts at once).</summary>
    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        poll.CancelAfter(TimeSpan.FromMilliseconds(_webhooks.PollIntervalMilliseconds));
        try
        {
            while (await _signal.Rooms.WaitToReadAsync(poll.Token))
            {
                while (_signal.Rooms.TryRead(out var roomId))
                {
                    // Each on its own: an index that is slow to answer (its shard failing over) must not hold the
                    // other rooms' starts, nor this loop's next poll, behind one announcement after another.
                    var announcing = AnnounceAndStartAsync(roomId, stoppingToken);
                    if (_announcing.TryAdd(announcing, 0))
                    {
                        _ = announcing.ContinueWith(done => _announcing.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // the poll interval passed
        }
    }

    private async Task AnnounceAndStartAsync(string roomId, CancellationToken stoppingToken)
    {
        // Index it first, so the other replicas can take over if this one dies mid-delivery.
        // If Redis is away, the room still starts here, and the sweep indexes it later.
        var mark = 0L;
        try
        {
            mark = await _outbox.AnnounceAsync(roomId);
        }
        catch (Exception ex)
        {
            OrdersLog.RoomFailed(_logger, roomId, ex.Message, ex is RoomException or OperationCanceledException ? null : ex);
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            Start(new OutboxRoom(roomId, mark), announced: true, stoppingToken);
        }
    }

    /// <summary>
    /// Starts delivering a room unless it is in delivery here already, or held by another replica as
    /// this one last saw it — except when this replica has just <paramref name="announced"/> a new record
    /// there (the holder may have found the room empty a moment before) — or left for the others
    /// (<see cref="_leftForOthers"/>, announced or not), or while this process may not claim under its id
    /// (<see cref="IOrderClaimPermit"/>).
    /// </summary>
    private void Start(OutboxRoom room, bool announced, CancellationToken stoppingToken)
    {
        if (IsRunning(room, announced) || (!announced && IsHeldElsewhere(room.RoomId)) || IsLeftForOthers(room.RoomId))
        {
            return;
        }

        // Another live process holds this replica's id, whose claims would pass for ours: the holder delivers (an
        // announced room was indexed above, so it finds it).
        if (!_permit.MayClaim)
        {
            return;
        }

        _claims.PermitHeld();
        var run = new TaskCompletionSource();
        if (!TryAddRun(room.RoomId, run.Task))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await DeliverRoomAsync(room, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // shutting down: a held record stays pending and another replica takes it over
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The record stays pending; its claim runs out and it is tried again (here or elsewhere).
                OrdersLog.RoomFailed(_logger, room.RoomId, ex.Message, ex is RoomException ? null : ex);
            }
            finally
            {
                var again = Finish(room.RoomId);
                Interlocked.Decrement(ref _inDelivery);
                run.SetResult();
                if (again is not null && !stoppingToken.IsCancellationRequested)
                {
                    Start(again, announced: true, stoppingToken);
                }
            }
        }, CancellationToken.None);
    }

    /// <summary>
    /// Adds the room's run unless it is in delivery here already or this replica has <see cref="MaxRoomsInDelivery"/>
    /// (then it warns). Under the gate: rooms start from the poll, from this replica's announcements and from runs that
    /// end, at once.
    /// </summary>
    private bool TryAddRun(string roomId, Task run)
    {
        lock (_runGate)
        {
            if (Volatile.Read(ref _inDelivery) >= MaxRoomsInDelivery)
            {
                WarnCapped();
                return false;
            }

            if (!_active.TryAdd(roomId, run))
            {
                return false;
            }

            Interlocked.Increment(ref _inDelivery);
            return true;
        }
    }

    /// <summary>Whether the room is in delivery here; if so, an <paramref name="announced"/> room is noted for the run's end.</summary>
    private bool IsRunning(OutboxRoom room, bool announced)
    {
        lock (_runGate)
        {
            if (!_active.ContainsKey(room.RoomId))
            {
                return false;
            }

            if (announced)
            {
                _announcedDuringRun[room.RoomId] = room.Mark;
            }

            return true;
        }
    }

    /// <summary>Ends a room's run here; the room to start again if it was announced during the run.</summary>
    private OutboxRoom? Finish(string roomId)
    {
        lock (_runGate)
        {
            _active.TryRemove(roomId, out _);
            return _announcedDuringRun.Remove(roomId, out var mark) ? new OutboxRoom(roomId, mark) : null;
        }
    }

    private bool IsHeldElsewhere(string roomId) =>
        _heldElsewhere.TryGetValue(roomId, out var until) && until > _time.GetUtcNow();

    private bool IsLeftForOthers(string roomId) =>
        _leftForOthers.TryGetValue(roomId, out var until) && until > _time.GetUtcNow();

    private void ForgetExpiredHolds()
    {
        var now = _time.GetUtcNow();
        foreach (var holds in new[] { _heldElsewhere, _leftForOthers })
        {
            foreach (var (roomId, until) in holds)
            {
                if (until <= now)
                {
                    holds.TryRemove(new KeyValuePair<string, DateTimeOffset>(roomId, until));
                }
            }
        }
    }

    /// <summary>Under <see cref="_runGate"/> (<see cref="TryAddRun"/>).</summary>
    private void WarnCapped()
    {
        var now = _time.GetUtcNow();
        if (now - _capWarnedAt >= CapWarningInterval)
        {
            _capWarnedAt = now;
            OrdersLog.RoomsCapped(_logger, MaxRoomsInDelivery);
        }
    }

    private async Task DeliverRoomAsync(OutboxRoom room, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Checked before every claim, not only when the room started: another process may have taken this replica's
            // id meanwhile (this one paused, or lost Redis, for longer than the id's lease).
            if (!_permit.MayClaim)
            {
                _claims.LogPermitLoss(room.RoomId);
                return;
            }

            var claimStarted = _time.GetTimestamp();
            var claim = await _outbox.ClaimNextAsync(room.RoomId, _consumer, ClaimTimeout);
            if (claim.Outcome == ClaimOutcome.Empty)
            {
                await _outbox.ForgetAsync(room);
                return;
            }

            if (claim.Outcome == ClaimOutcome.PermitLost)
            {
                _claims.LogPermitLoss(room.RoomId);
                return;
            }

            if (claim.Outcome == ClaimOutcome.LeftForOthers)
            {
                // Its claim lapses after the timeout; staying away twice that long lets the other replicas try it first.
                _leftForOthers[room.RoomId] = _time.GetUtcNow() + (2 * ClaimTimeout);
                return;
            }

            if (claim.Outcome == ClaimOutcome.Unconfirmed)
            {
                // Where writes are confirmed, a record no Redis replica holds is not handed out (DESIGN.md §8); it stays
                // claimed here and is taken again once that claim lapses. Deliberately not sooner: while its shard has no
                // replica, every confirmation fails after waiting most of the store deadline.
                OrdersLog.ClaimNotConfirmed(_logger, room.RoomId, claim.Reason ?? "", _webhooks.ClaimTimeoutSeconds);
                _heldElsewhere[room.RoomId] = _time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }

            if (claim.Entry is not { } entry)
            {
                // Busy: another replica holds the room's oldest record (and delivers the room's later ones).
                // Left be until its claim could lapse, at most a renewal period: a dead holder's room is
                // tried again the moment it can be taken over.
                _heldElsewhere[room.RoomId] = _time.GetUtcNow() + (claim.LapsesIn < ClaimTimeout / 3 ? claim.LapsesIn : ClaimTimeout / 3);
                return;
            }

            _heldElsewhere.TryRemove(room.RoomId, out _);

            if (!await _delivery.DeliverRecordAsync(entry, claimStarted, stoppingToken))
            {
                // No longer this replica's: the record, and the room's later ones, are the new holder's.
                _heldElsewhere[room.RoomId] = _time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }

            if (!await _outbox.SettleAsync(entry, _consumer))
            {
                OrdersLog.SettleLost(_logger, entry.RoomId, entry.OrderId);
                _heldElsewhere[room.RoomId] = _time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }
        }
    }
}
