using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Logging;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Delivers one record this replica claimed to every endpoint it is for, each with its retries, while <see cref="OrderClaimKeeper"/>
/// keeps the claim: writes each endpoint's outcome, and a dead letter for one that refused <c>MaxAttempts</c> times. Used by
/// <see cref="OrderDeliveryWorker"/> for each room's records in turn.
/// </summary>
internal sealed class OrderRecordDelivery(
    IOrderOutbox outbox,
    WebhookSender sender,
    WebhookMetrics metrics,
    OrderClaimKeeper claims,
    IOptions<RoomServerOptions> options,
    TimeProvider time,
    ILogger logger)
{
    private readonly WebhookOptions _webhooks = options.Value.Webhooks;
    private readonly string _consumer = options.Value.ReplicaId;

    /// <summary>
    /// Delivers the record to its endpoints while renewing the claim; false when the claim was lost meanwhile
    /// (this replica could not renew it in time, and another took the record over): the deliveries stop, and
    /// the record is the new holder's — two replicas do not go on delivering one room past a renewal (DESIGN.md §8).
    /// </summary>
    public async Task<bool> DeliverRecordAsync(OutboxEntry entry, long claimStarted, CancellationToken stoppingToken)
    {
        using var claimLost = new CancellationTokenSource();
        using var deliveries = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, claimLost.Token);
        using var delivered = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepClaim = claims.KeepClaimAsync(entry, claimStarted, claimLost, delivered.Token);
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
                if (await claims.PermitLostAsync(entry, claimLost))
                {
                    return; // cancels the retry's wait
                }

                try
                {
                    // With the attempt's time, in the write the operator view already gets: a takeover keeps to it.
                    if (!await outbox.SetDeliveryAsync(entry, _consumer, endpoint.Url, new EndpointDelivery(DeliveryStatuses.Pending, attempts, error, time.GetUtcNow() + nextIn)))
                    {
                        await claims.StopDeliveringAsync(entry, claimLost); // cancels the retry's wait
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
                await claims.StopDeliveringAsync(entry, claimLost);
            }

            return;
        }

        // Renewed right before: the dead letters' stream is in another Redis Cluster slot than the record, so no one script can
        // check the claim and append the letter; a renewal that landed keeps the record this replica's for a whole claim
        // timeout. A replica that lost it writes no letter the new holder may have delivered (an operator's retry would repeat it).
        if (await claims.PermitLostAsync(entry, claimLost))
        {
            return;
        }

        if (!await outbox.KeepClaimAsync(entry, _consumer))
        {
            await claims.StopDeliveringAsync(entry, claimLost);
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
            await claims.StopDeliveringAsync(entry, claimLost);
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
                await claims.StopDeliveringAsync(entry, claimLost);
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
