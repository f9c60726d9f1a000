using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A replica whose claim lapsed while it was delivering (it could not renew in time: a partition, a long
/// pause) and whose record another replica took over stops delivering it, and neither takes it back nor
/// settles it: one replica handles a record at a time, and a room's records go in version order
/// (DESIGN.md §8). Nor, before it knows, does it write a status over the new holder's or a dead letter for a
/// record the new holder delivered: such a write is refused, and the replica stops there. The worker runs in
/// process against embedded mode's outbox, wrapped so another consumer takes the record over at the moment a
/// test stages, and a receiver that keeps failing.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class ClaimLostTests
{
    [Fact]
    public async Task AReplicaWhoseRecordWasTakenOverStopsDeliveringItAndLeavesItToTheNewHolder()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        // A claim of 3 s: renewed every second; the fake holder's own claim lapses 3 s after it took over.
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, LockedEmbeddedRoom.RetryingQuickly(claimTimeoutSeconds: 3));
        var takeover = new TakenOverBeforeTheFirstRenewal(outbox);

        await using var provider = InProcessDeliveryWorker.Build(options, takeover);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await receiver.NextAsync(TimeSpan.FromSeconds(10));
            await Poll.UntilAsync(() => Task.FromResult(takeover.TakenOver), TimeSpan.FromSeconds(10), "the first renewal finds the record taken over");

            // Retries come every 50–100 ms while the worker delivers: none may come once it knows (checked
            // within the 3 s the fake holder's claim lasts, after which this replica may take it over again).
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            var attemptsAtStop = receiver.All.Count;
            await Task.Delay(TimeSpan.FromSeconds(1.2));
            receiver.All.Count.Should().Be(attemptsAtStop, "the replica stops delivering a record it no longer holds");
            takeover.Settles.Should().Be(0, "the record is the new holder's to settle");
            takeover.SuccessfulRenewals.Should().Be(0, "a lapsed claim is not taken back");
            (await outbox.ClaimNextAsync("r1", "third", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Busy, "the new holder still has it");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ARecordTakenOverJustBeforeItsSettleIsLeftToTheNewHolderAndTheReplicaSaysSo()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions { PollIntervalMilliseconds = 50 });
        var takeover = new TakenOverBeforeTheSettle(outbox);

        await using var provider = InProcessDeliveryWorker.Build(options, takeover);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var delivered = await receiver.NextDeliveredAsync(TimeSpan.FromSeconds(10));
            await Poll.UntilAsync(() => Task.FromResult(takeover.Settled is not null), TimeSpan.FromSeconds(10), "the worker settles once delivered");
            takeover.Settled.Should().BeFalse("the settle found the record taken over");
            var logs = provider.GetFakeLogCollector();
            await Poll.UntilAsync(
                () => Task.FromResult(logs.GetSnapshot().Any(r => r.Id.Id == 6012 && r.Message.Contains(delivered.OrderId, StringComparison.Ordinal))),
                TimeSpan.FromSeconds(5),
                "the replica logs that another replica took the record over before it could settle it (6012)");
            (await outbox.ClaimNextAsync("r1", "third", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Busy, "the new holder still has it");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AReplicaThatDoesNotKnowItsRecordWasTakenOverWritesNoStatusOverTheNewHoldersAndStops()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        // A claim of 3 s: renewed every second: the takeover comes right after the first renewal, the next is a second away.
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, LockedEmbeddedRoom.RetryingQuickly(claimTimeoutSeconds: 3));
        var takeover = new TakenOverAndDeliveredAfterTheFirstRenewal(outbox, receiver.Url);

        await using var provider = InProcessDeliveryWorker.Build(options, takeover);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(takeover.TakenOver), TimeSpan.FromSeconds(10), "the record is taken over after the first renewal");
            await UntilLoggedAsync(provider, 6011, "the replica stops delivering the record (6011)");

            // Within the 3 s the fake holder's claim lasts (then this replica may take the record over again, rightly).
            (await outbox.RecordsAsync("r1")).Single().Deliveries[receiver.Url].Should().Be(
                new EndpointDelivery(DeliveryStatuses.Delivered, 1, null), "the new holder delivered it; the old one's failed retries are not its to record");
            (await outbox.DeadLettersAsync(null, 1000)).Should().BeEmpty();
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AReplicaWhoseRecordWasTakenOverBeforeItsLastAttemptFailedWritesNoDeadLetter()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions
        {
            MaxAttempts = 3,
            RetryBaseDelayMilliseconds = 50,
            RetryMaxDelayMilliseconds = 100,
            ClaimTimeoutSeconds = 6, // the first renewal is 2 s away: all three attempts are made well before it
            PollIntervalMilliseconds = 50,
        });
        var takeover = new TakenOverAndDeliveredBeforeTheLastAttempt(outbox, receiver.Url, lastRetry: 2);

        await using var provider = InProcessDeliveryWorker.Build(options, takeover);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(receiver.All.Count >= 3), TimeSpan.FromSeconds(10), "the last attempt is made");
            var logs = provider.GetFakeLogCollector();
            await Poll.UntilAsync(
                () => Task.FromResult(logs.GetSnapshot().Any(r => r.Id.Id is 6011 or 6012)),
                TimeSpan.FromSeconds(5),
                "the worker is done with the record: it stopped (6011), or found it taken over at its settle (6012)");

            (await outbox.DeadLettersAsync(null, 1000)).Should().BeEmpty("the new holder delivered it: a dead letter's retry would send it again");
            (await outbox.RecordsAsync("r1")).Single().Deliveries[receiver.Url].Status.Should().Be(DeliveryStatuses.Delivered);
            logs.GetSnapshot().Should().Contain(r => r.Id.Id == 6011, "the renewal before the dead letter found the record taken over");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static Task UntilLoggedAsync(ServiceProvider provider, int eventId, string what)
    {
        var logs = provider.GetFakeLogCollector();
        return Poll.UntilAsync(() => Task.FromResult(logs.GetSnapshot().Any(r => r.Id.Id == eventId)), TimeSpan.FromSeconds(5), what);
    }

    /// <summary>As another replica does once this one's claim lapsed: takes the record over and delivers it to the endpoint.</summary>
    private static async Task TakeOverAndDeliverAsync(IOrderOutbox outbox, OutboxEntry entry, string endpoint)
    {
        (await outbox.ClaimNextAsync(entry.RoomId, "other", TimeSpan.Zero)).Entry!.EntryId.Should().Be(entry.EntryId);
        (await outbox.SetDeliveryAsync(entry, "other", endpoint, new EndpointDelivery(DeliveryStatuses.Delivered, 1, null))).Should().BeTrue();
    }

    /// <summary>The outbox, except that right after the worker's first renewal another consumer takes the record over and delivers it.</summary>
    private sealed class TakenOverAndDeliveredAfterTheFirstRenewal(InMemoryOrderOutbox inner, string deliveredTo) : ForwardingOrderOutbox(inner)
    {
        private int _takenOver;

        public bool TakenOver => Volatile.Read(ref _takenOver) == 1;

        public override async Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            var kept = await Inner.KeepClaimAsync(entry, consumer);
            if (kept && Interlocked.Exchange(ref _takenOver, 1) == 0)
            {
                // As if this replica paused for the claim timeout right after renewing: it learns of it a renewal later, at the earliest.
                await TakeOverAndDeliverAsync(Inner, entry, deliveredTo);
            }

            return kept;
        }
    }

    /// <summary>The outbox, except that once the worker recorded its next to last attempt another consumer takes the record over and delivers it.</summary>
    private sealed class TakenOverAndDeliveredBeforeTheLastAttempt(InMemoryOrderOutbox inner, string deliveredTo, int lastRetry) : ForwardingOrderOutbox(inner)
    {
        private int _takenOver;

        public override async Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery)
        {
            var written = await Inner.SetDeliveryAsync(entry, consumer, endpoint, delivery);
            if (delivery is { Status: DeliveryStatuses.Pending } && delivery.Attempts == lastRetry && Interlocked.Exchange(ref _takenOver, 1) == 0)
            {
                await TakeOverAndDeliverAsync(Inner, entry, deliveredTo);
            }

            return written;
        }
    }

    /// <summary>The outbox, except that another consumer takes the record over just before the worker settles it.</summary>
    private sealed class TakenOverBeforeTheSettle(InMemoryOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private volatile object? _settled;

        /// <summary>What the first settle answered (null until then); the test asserts on it, not this override (the worker would swallow it).</summary>
        public bool? Settled => (bool?)_settled;

        public override async Task<bool> SettleAsync(OutboxEntry entry, string consumer)
        {
            // As if this replica had paused for the claim timeout after its last delivery.
            await Inner.ClaimNextAsync(entry.RoomId, "other", TimeSpan.Zero);
            var settled = await Inner.SettleAsync(entry, consumer);
            Interlocked.CompareExchange(ref _settled, settled, null);
            return settled;
        }
    }

    /// <summary>The outbox, except that another consumer takes the held record over just before the first renewal.</summary>
    private sealed class TakenOverBeforeTheFirstRenewal(InMemoryOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private int _takenOver;
        private int _settles;
        private int _renewed;

        public bool TakenOver => Volatile.Read(ref _takenOver) == 1;

        public int Settles => Volatile.Read(ref _settles);

        public int SuccessfulRenewals => Volatile.Read(ref _renewed);

        public override async Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            if (Interlocked.Exchange(ref _takenOver, 1) == 0)
            {
                // As if this replica had not renewed for the claim timeout: a zero timeout lets "other" take it.
                (await Inner.ClaimNextAsync(entry.RoomId, "other", TimeSpan.Zero)).Entry!.EntryId.Should().Be(entry.EntryId);
            }

            var kept = await Inner.KeepClaimAsync(entry, consumer);
            if (kept)
            {
                Interlocked.Increment(ref _renewed);
            }

            return kept;
        }

        public override Task<bool> SettleAsync(OutboxEntry entry, string consumer)
        {
            Interlocked.Increment(ref _settles);
            return Inner.SettleAsync(entry, consumer);
        }
    }
}
