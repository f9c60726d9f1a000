using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Keeps a record this replica claimed its own while <see cref="OrderRecordDelivery"/> delivers it: renews the claim, and stops
/// the record's deliveries here once another replica holds it or this process may no longer claim (<see cref="IOrderClaimPermit"/>).
/// One per <see cref="OrderDeliveryWorker"/>, which shares it with every room it delivers: the loss of the permit is logged once per
/// loss, not once per room.
/// </summary>
internal sealed class OrderClaimKeeper(IOrderOutbox outbox, IOrderClaimPermit permit, IOptions<RoomServerOptions> options, TimeProvider time, ILogger logger)
{
    // Whether the loss of the permit has been logged (6018) since this process last held it: once per loss, not per room.
    private int _permitLossLogged;
    private readonly WebhookOptions _webhooks = options.Value.Webhooks;
    private readonly string _consumer = options.Value.ReplicaId;

    private TimeSpan ClaimTimeout => TimeSpan.FromSeconds(_webhooks.ClaimTimeoutSeconds);

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
    public async Task KeepClaimAsync(OutboxEntry entry, long claimStarted, CancellationTokenSource claimLost, CancellationToken cancellationToken)
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
    public async Task<bool> PermitLostAsync(OutboxEntry entry, CancellationTokenSource claimLost)
    {
        if (permit.MayClaim)
        {
            return false;
        }

        LogPermitLoss(entry.RoomId);
        await claimLost.CancelAsync();
        return true;
    }

    /// <summary>Logs the loss of the permit (6018), naming the room that found it, once until <see cref="PermitHeld"/>.</summary>
    public void LogPermitLoss(string roomId)
    {
        if (Interlocked.Exchange(ref _permitLossLogged, 1) == 0)
        {
            OrdersLog.PermitLost(logger, roomId);
        }
    }

    /// <summary>This process may claim (again): the next loss of the permit is logged (6018).</summary>
    public void PermitHeld() => Volatile.Write(ref _permitLossLogged, 0);

    /// <summary>
    /// The record is no longer this replica's (a renewal, a status write or the renewal before a dead letter found another
    /// holder, or it settled): its deliveries here stop, and it is neither renewed nor settled here (DESIGN.md §8).
    /// </summary>
    public async Task StopDeliveringAsync(OutboxEntry entry, CancellationTokenSource claimLost)
    {
        if (!claimLost.IsCancellationRequested)
        {
            OrdersLog.ClaimLost(logger, entry.RoomId, entry.OrderId);
        }

        await claimLost.CancelAsync();
    }
}
