using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Logging;
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
public sealed class OrderDeliveryWorker(
    IOrderOutbox outbox,
    OrderOutboxSignal signal,
    IOrderClaimPermit permit,
    WebhookSender sender,
    WebhookMetrics metrics,
    IOptions<RoomServerOptions> options,
    TimeProvider time,
    ILogger<OrderDeliveryWorker> logger) : BackgroundService
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
    /// Rooms another replica was delivering when this one last tried, and until when to leave them be:
    /// until the holder's claim could lapse, at most a third of the timeout (its renewal period). Trying
    /// sooner only costs a claim script a room a poll (with an endpoint down, one for each of a thousand
    /// rooms a second). The worker's loop and the room tasks write it (hence concurrent); the cap's counter
    /// and warning are the loop's.
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

    // Whether the loss of the permit has been logged (6018) since this process last held it: once per loss, not per room.
    private int _permitLossLogged;
    private readonly WebhookOptions _webhooks = options.Value.Webhooks;
    private readonly string _consumer = options.Value.ReplicaId;

    private TimeSpan ClaimTimeout => TimeSpan.FromSeconds(_webhooks.ClaimTimeoutSeconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        OrdersLog.Started(logger, _webhooks.Endpoints.Count, _webhooks.MaxAttempts, _webhooks.TimeoutSeconds);

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
                foreach (var room in await outbox.RoomsWithWorkAsync(window))
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
                OrdersLog.PollFailed(logger, ex.Message, ex is RoomException ? null : ex);

                // Only the index's read failed: this replica's own transitions still start as they come.
                await WaitForWorkAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll([sweeping, .. _active.Values]).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Indexes outboxes no announcement reached (<see cref="IOrderOutbox.SweepAsync"/>), at start and every sweep interval.</summary>
    private async Task SweepEveryIntervalAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(_webhooks.SweepIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            try
            {
                await outbox.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever failed, the next sweep comes: this loop ends only with the replica.
                OrdersLog.SweepFailed(logger, ex.Message, ex is RoomException ? null : ex);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // A sweep starts every interval (a long one shortens the wait after it), as the setting says.
            var wait = interval - time.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
            while (await signal.Rooms.WaitToReadAsync(poll.Token))
            {
                while (signal.Rooms.TryRead(out var roomId))
                {
                    // Index it first, so the other replicas can take over if this one dies mid-delivery.
                    // If Redis is away, the room still starts here, and the sweep indexes it later.
                    var mark = 0L;
                    try
                    {
                        mark = await outbox.AnnounceAsync(roomId);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        OrdersLog.RoomFailed(logger, roomId, ex.Message, ex is RoomException ? null : ex);
                    }

                    Start(new OutboxRoom(roomId, mark), announced: true, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // the poll interval passed
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
        if (_active.ContainsKey(room.RoomId) || (!announced && IsHeldElsewhere(room.RoomId)) || IsLeftForOthers(room.RoomId))
        {
            return;
        }

        // Another live process holds this replica's id, whose claims would pass for ours: the holder delivers (an
        // announced room was indexed above, so it finds it).
        if (!permit.MayClaim)
        {
            return;
        }

        Volatile.Write(ref _permitLossLogged, 0);
        if (Volatile.Read(ref _inDelivery) >= MaxRoomsInDelivery)
        {
            WarnCapped();
            return;
        }

        var run = new TaskCompletionSource();
        if (!_active.TryAdd(room.RoomId, run.Task))
        {
            return;
        }

        Interlocked.Increment(ref _inDelivery);

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
                OrdersLog.RoomFailed(logger, room.RoomId, ex.Message, ex is RoomException ? null : ex);
            }
            finally
            {
                _active.TryRemove(room.RoomId, out _);
                Interlocked.Decrement(ref _inDelivery);
                run.SetResult();
            }
        }, CancellationToken.None);
    }

    private bool IsHeldElsewhere(string roomId) =>
        _heldElsewhere.TryGetValue(roomId, out var until) && until > time.GetUtcNow();

    private bool IsLeftForOthers(string roomId) =>
        _leftForOthers.TryGetValue(roomId, out var until) && until > time.GetUtcNow();

    private void ForgetExpiredHolds()
    {
        var now = time.GetUtcNow();
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

    private void WarnCapped()
    {
        var now = time.GetUtcNow();
        if (now - _capWarnedAt >= CapWarningInterval)
        {
            _capWarnedAt = now;
            OrdersLog.RoomsCapped(logger, MaxRoomsInDelivery);
        }
    }

    private async Task DeliverRoomAsync(OutboxRoom room, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Checked before every claim, not only when the room started: another process may have taken this replica's
            // id meanwhile (this one paused, or lost Redis, for longer than the id's lease).
            if (!permit.MayClaim)
            {
                LogPermitLoss(room.RoomId);
                return;
            }

            var claimStarted = time.GetTimestamp();
            var claim = await outbox.ClaimNextAsync(room.RoomId, _consumer, ClaimTimeout);
            if (claim.Outcome == ClaimOutcome.Empty)
            {
                await outbox.ForgetAsync(room);
                return;
            }

            if (claim.Outcome == ClaimOutcome.PermitLost)
            {
                LogPermitLoss(room.RoomId);
                return;
            }

            if (claim.Outcome == ClaimOutcome.LeftForOthers)
            {
                // Its claim lapses after the timeout; staying away twice that long lets the other replicas try it first.
                _leftForOthers[room.RoomId] = time.GetUtcNow() + (2 * ClaimTimeout);
                return;
            }

            if (claim.Outcome == ClaimOutcome.Unconfirmed)
            {
                // Where writes are confirmed, a record no Redis replica holds is not handed out (DESIGN.md §8); it stays
                // claimed here and is taken again once that claim lapses. Deliberately not sooner: while its shard has no
                // replica, every confirmation fails after waiting most of the store deadline.
                OrdersLog.ClaimNotConfirmed(logger, room.RoomId, claim.Reason ?? "", _webhooks.ClaimTimeoutSeconds);
                _heldElsewhere[room.RoomId] = time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }

            if (claim.Entry is not { } entry)
            {
                // Busy: another replica holds the room's oldest record (and delivers the room's later ones).
                // Left be until its claim could lapse, at most a renewal period: a dead holder's room is
                // tried again the moment it can be taken over.
                _heldElsewhere[room.RoomId] = time.GetUtcNow() + (claim.LapsesIn < ClaimTimeout / 3 ? claim.LapsesIn : ClaimTimeout / 3);
                return;
            }

            _heldElsewhere.TryRemove(room.RoomId, out _);

            if (!await DeliverRecordAsync(entry, claimStarted, stoppingToken))
            {
                // No longer this replica's: the record, and the room's later ones, are the new holder's.
                _heldElsewhere[room.RoomId] = time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }

            if (!await outbox.SettleAsync(entry, _consumer))
            {
                OrdersLog.SettleLost(logger, entry.RoomId, entry.OrderId);
                _heldElsewhere[room.RoomId] = time.GetUtcNow() + (ClaimTimeout / 3);
                return;
            }
        }
    }

    /// <summary>
    /// Delivers the record to its endpoints while renewing the claim; false when the claim was lost meanwhile
    /// (this replica could not renew it in time, and another took the record over): the deliveries stop, and
    /// the record is the new holder's — two replicas do not go on delivering one room past a renewal (DESIGN.md §8).
    /// </summary>
    private async Task<bool> DeliverRecordAsync(OutboxEntry entry, long claimStarted, CancellationToken stoppingToken)
    {
        using var claimLost = new CancellationTokenSource();
        using var deliveries = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, claimLost.Token);
        using var delivered = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepClaim = KeepClaimAsync(entry, claimStarted, claimLost, delivered.Token);
        try
        {
            List<WebhookEndpoint> endpoints = entry.OnlyEndpoint is { } only
                ? [_webhooks.Endpoints.Find(e => e.Url == only) ?? new WebhookEndpoint { Url = only }]
                : [.. _webhooks.Endpoints, .. PendingButNoLongerConfigured(entry)];
            await Task.WhenAll(endpoints.Select(e => DeliverToAsync(entry, e, claimLost, deliveries.Token)));
            return !claimLost.IsCancellationRequested;
        }
        catch (OperationCanceledException) when (claimLost.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            await delivered.CancelAsync();
            await keepClaim;
        }
    }

    /// <summary>
    /// Endpoints no longer configured here that the record is still pending for: a holder configured otherwise was retrying
    /// them when it stopped (an operator removed one and restarted). They cannot be sent to (no secret to sign with), so each
    /// gets a dead letter, kept until that endpoint is configured again, and its status dead — not pending for good (DESIGN.md §8).
    /// </summary>
    private IEnumerable<WebhookEndpoint> PendingButNoLongerConfigured(OutboxEntry entry) =>
        entry.Deliveries.Where(d => d.Value.Status == DeliveryStatuses.Pending && !_webhooks.IsConfigured(d.Key)).Select(d => new WebhookEndpoint { Url = d.Key });

    /// <summary>
    /// Renews the claim every third of the timeout while the record is being delivered; cancels <paramref name="claimLost"/>
    /// once it is lost. The first renewal is due a third of the timeout after the claim call began (<paramref name="claimStarted"/>),
    /// not after the delivery began: the claim's idle time may run from then, and the claim (its confirmation) and the record's
    /// read may each have taken a whole store deadline. Then a claim of three deadlines is enough
    /// (<see cref="WebhookOptions.LeastClaimTimeoutSeconds"/>; timed from the delivery, it took four and a half). When the claim
    /// took more than a third of the timeout, the renewal runs at once, and a quick delivery waits for it before it settles.
    /// Each later renewal is due a third after the one before it was sent (not answered: a slow answer must not push the
    /// next one later). One that fails (Redis away or past its deadline) is tried again after <see cref="RenewalRetry"/>,
    /// not a whole period later: the claim lapses a timeout after the last renewal that landed.
    /// </summary>
    private async Task KeepClaimAsync(OutboxEntry entry, long claimStarted, CancellationTokenSource claimLost, CancellationToken cancellationToken)
    {
        try
        {
            var nextIn = (ClaimTimeout / 3) - time.GetElapsedTime(claimStarted);
            var failing = false;
            while (true)
            {
                if (nextIn > TimeSpan.Zero)
                {
                    await Task.Delay(nextIn, time, cancellationToken);
                }

                var sent = time.GetTimestamp();
                switch (await RenewAsync(entry, claimLost, logFailure: !failing))
                {
                    case Renewal.Lost:
                        return;
                    case Renewal.Failed:
                        failing = true;
                        nextIn = RenewalRetry;
                        break;
                    default:
                        failing = false;
                        nextIn = (ClaimTimeout / 3) - time.GetElapsedTime(sent);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // delivered (or shutting down)
        }
    }

    /// <summary>
    /// How soon a failed renewal is tried again: a second, or a sixth of a claim shorter than six seconds. With the default
    /// claim (30 s, renewed every 10 s, a 2 s store deadline) a store outage that ends within about 27 s of the last renewal
    /// that landed keeps the claim; near the least claim (three deadlines) a failure still lapses it.
    /// </summary>
    private TimeSpan RenewalRetry => ClaimTimeout / 6 < TimeSpan.FromSeconds(1) ? ClaimTimeout / 6 : TimeSpan.FromSeconds(1);

    private enum Renewal
    {
        Renewed,

        /// <summary>Not renewed, not lost: the store did not answer (in time); tried again soon.</summary>
        Failed,

        /// <summary>Another replica holds the record now; <c>claimLost</c> is cancelled.</summary>
        Lost,
    }

    /// <summary>One renewal. A failure is logged when <paramref name="logFailure"/> (the first of a run: retries come every second).</summary>
    private async Task<Renewal> RenewAsync(OutboxEntry entry, CancellationTokenSource claimLost, bool logFailure)
    {
        if (await PermitLostAsync(entry, claimLost))
        {
            return Renewal.Lost;
        }

        try
        {
            if (!await outbox.KeepClaimAsync(entry, _consumer))
            {
                await StopDeliveringAsync(entry, claimLost);
                return Renewal.Lost;
            }
        }
        catch (RoomException ex)
        {
            if (logFailure)
            {
                OrdersLog.RenewalFailed(logger, entry.RoomId, entry.OrderId, ex.Message, RenewalRetry.TotalMilliseconds);
            }

            return Renewal.Failed;
        }

        return Renewal.Renewed;
    }

    /// <summary>
    /// Whether another live process holds this replica's id now (<see cref="IOrderClaimPermit"/>), and if so stops the record's
    /// deliveries here: that process's renewals and this one's pass for each other's, so a claim renewed is no proof that this
    /// process alone delivers the record. Asked at every renewal and after every failed attempt, so a process that paused, or
    /// lost Redis, for longer than the id's lease stops one attempt, or a renewal period at most, after its guard finds the
    /// other holder.
    /// </summary>
    private async Task<bool> PermitLostAsync(OutboxEntry entry, CancellationTokenSource claimLost)
    {
        if (permit.MayClaim)
        {
            return false;
        }

        LogPermitLoss(entry.RoomId);
        await claimLost.CancelAsync();
        return true;
    }

    private void LogPermitLoss(string roomId)
    {
        if (Interlocked.Exchange(ref _permitLossLogged, 1) == 0)
        {
            OrdersLog.PermitLost(logger, roomId);
        }
    }

    /// <summary>
    /// The record is no longer this replica's (a renewal, a status write or the renewal before a dead letter found another
    /// holder, or it settled): its deliveries here stop, and it is neither renewed nor settled here (DESIGN.md §8).
    /// </summary>
    private async Task StopDeliveringAsync(OutboxEntry entry, CancellationTokenSource claimLost)
    {
        if (!claimLost.IsCancellationRequested)
        {
            OrdersLog.ClaimLost(logger, entry.RoomId, entry.OrderId);
        }

        await claimLost.CancelAsync();
    }

    /// <summary>
    /// A record taken over mid-retry (its holder died, or its claim lapsed) keeps the wait its holder scheduled: the
    /// receiver's <c>Retry-After</c>, or the backoff's. Waited here, before the pipeline, it holds no request slot and
    /// delays only this endpoint of this record; never longer than one retry's longest wait, whatever the clock of the
    /// replica that wrote it said.
    /// </summary>
    private Task WaitForScheduledAttemptAsync(EndpointDelivery? earlier, CancellationToken cancellationToken)
    {
        if (earlier is not { Status: DeliveryStatuses.Pending, NextAttemptAt: { } due })
        {
            return Task.CompletedTask;
        }

        var wait = due - time.GetUtcNow();
        var longest = TimeSpan.FromMilliseconds(_webhooks.RetryMaxDelayMilliseconds);
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait < longest ? wait : longest, time, cancellationToken);
    }

    /// <summary>
    /// Delivers the record to one endpoint and writes the outcome. Every status write, and the dead letter, is this replica's only
    /// while it holds the record: one refused (another replica took it over) stops the record here through
    /// <paramref name="claimLost"/>, as a lost renewal does.
    /// </summary>
    private async Task DeliverToAsync(OutboxEntry entry, WebhookEndpoint endpoint, CancellationTokenSource claimLost, CancellationToken stoppingToken)
    {
        var earlier = entry.Deliveries.GetValueOrDefault(endpoint.Url);
        if (earlier?.Status is DeliveryStatuses.Delivered)
        {
            return; // a replica that died after this endpoint was settled
        }

        if (earlier?.Status is DeliveryStatuses.Dead)
        {
            if (entry.OnlyEndpoint is null)
            {
                return; // the same, dead-lettered
            }

            // A retried dead letter whose status still says dead: the operator's retry landed between the
            // dead letter and its status (below), which wrote "dead" over the retry's "pending". The retry
            // is what the operator asked for: a fresh round of attempts. (Or the replica delivering the
            // retry died after dead-lettering it again: then it is dead-lettered once more — at least once.)
            earlier = null;
        }

        DeliveryResult result;
        if (endpoint.Secret.Length == 0)
        {
            result = new DeliveryResult(false, earlier?.Attempts ?? 0, "the endpoint is no longer configured (no secret to sign with)");
        }
        else if (earlier is not null && earlier.Attempts >= _webhooks.MaxAttempts)
        {
            // Every attempt was made and failed (the last one recorded below) by a holder that then could not write the dead
            // letter (unconfirmed, or it died): the letter is what is left to do, not another POST (DESIGN.md §8).
            result = new DeliveryResult(false, earlier.Attempts, earlier.LastError);
        }
        else
        {
            // A takeover that finds one attempt left may find it already sent: the dead holder may have died after sending
            // its last attempt and before recording that it failed. It is sent once more (at least once).
            var previous = Math.Min(earlier?.Attempts ?? 0, _webhooks.MaxAttempts - 1);
            await WaitForScheduledAttemptAsync(earlier, stoppingToken);
            result = await sender.SendAsync(entry, endpoint, previous, async (attempts, error, nextIn) =>
            {
                OrdersLog.Retrying(logger, entry.OrderId, EndpointRedaction.Redact(endpoint.Url), attempts, error);
                if (await PermitLostAsync(entry, claimLost))
                {
                    return; // cancels the retry's wait
                }

                try
                {
                    // With the attempt's time, in the write the operator view already gets: a takeover keeps to it.
                    if (!await outbox.SetDeliveryAsync(entry, _consumer, endpoint.Url, new EndpointDelivery(DeliveryStatuses.Pending, attempts, error, time.GetUtcNow() + nextIn)))
                    {
                        await StopDeliveringAsync(entry, claimLost); // cancels the retry's wait
                    }
                }
                catch (RoomException ex)
                {
                    // Only the operator view's progress is late; the retries go on.
                    OrdersLog.RoomFailed(logger, entry.RoomId, ex.Message, null);
                }
            }, stoppingToken);

            if (!result.Delivered && !await RecordLastAttemptAsync(entry, endpoint, result, claimLost))
            {
                return;
            }
        }

        if (result.Delivered)
        {
            metrics.Delivered();
            OrdersLog.Delivered(logger, entry.OrderId, entry.Type, EndpointRedaction.Redact(endpoint.Url), result.Attempts);
            if (!await outbox.SetDeliveryAsync(entry, _consumer, endpoint.Url, new EndpointDelivery(DeliveryStatuses.Delivered, result.Attempts, null)))
            {
                await StopDeliveringAsync(entry, claimLost);
            }

            return;
        }

        // Renewed right before: the dead letters' stream is in another Redis Cluster slot than the record, so no one script can
        // check the claim and append the letter; a renewal that landed keeps the record this replica's for a whole claim
        // timeout. A replica that lost it writes no letter the new holder may have delivered (an operator's retry would repeat it).
        if (await PermitLostAsync(entry, claimLost))
        {
            return;
        }

        if (!await outbox.KeepClaimAsync(entry, _consumer))
        {
            await StopDeliveringAsync(entry, claimLost);
            return;
        }

        // The dead letter first: a crash before the status repeats the dead-lettering, never loses it. Counted and logged once
        // written: a letter refused (unavailable, unconfirmed) is written, counted and logged by the next claim instead.
        await outbox.DeadLetterAsync(new DeadLetter(
            "", entry.OrderId, entry.RoomId, entry.Type, entry.Version, entry.At, endpoint.Url, result.Attempts, result.LastError, time.Stamp(), entry.Body));
        metrics.DeadLettered();
        OrdersLog.DeadLettered(logger, entry.OrderId, EndpointRedaction.Redact(endpoint.Url), result.Attempts, result.LastError ?? "");
        if (!await outbox.SetDeliveryAsync(entry, _consumer, endpoint.Url, new EndpointDelivery(DeliveryStatuses.Dead, result.Attempts, result.LastError)))
        {
            await StopDeliveringAsync(entry, claimLost);
        }
    }

    /// <summary>
    /// Records the last attempt's failure before the dead letter, so a holder that cannot write the letter (unconfirmed:
    /// the round fails) or dies first leaves the attempts used up, and the next claim writes the letter without another
    /// POST. False when the claim was lost meanwhile. A store that cannot take the status does not stop the letter: the
    /// letter is what matters, and a later claim then sends once more at most.
    /// </summary>
    private async Task<bool> RecordLastAttemptAsync(OutboxEntry entry, WebhookEndpoint endpoint, DeliveryResult result, CancellationTokenSource claimLost)
    {
        try
        {
            if (!await outbox.SetDeliveryAsync(entry, _consumer, endpoint.Url, new EndpointDelivery(DeliveryStatuses.Pending, result.Attempts, result.LastError)))
            {
                await StopDeliveringAsync(entry, claimLost);
                return false;
            }
        }
        catch (RoomException ex)
        {
            OrdersLog.RoomFailed(logger, entry.RoomId, ex.Message, null);
        }

        return true;
    }
}
