using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// <c>MaxAttempts</c> attempts in all, counted across claims (DESIGN.md §8): a holder whose dead letter cannot be written
/// (unconfirmed where writes are confirmed: the round fails, the record stays pending) leaves the attempts used up, and
/// the record is "dead-lettered again at its next claim", not sent once more. Before, the last failed attempt was never
/// recorded, so every later claim made one more POST: without bound while the dead letters' shard had no replica. The
/// worker runs in process against embedded mode's outbox; a receiver that keeps failing.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class AttemptsUsedUpTests
{
    private const int MaxAttempts = 3;

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARecordWhoseDeadLetterCouldNotBeWrittenIsDeadLetteredAtItsNextClaimWithoutAnotherRequest()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, FastRetries());
        var letters = new FirstDeadLetterUnconfirmed(outbox);

        await using var provider = InProcessDeliveryWorker.Build(options, letters);
        using var dead = new DeadOutcomes(provider.GetRequiredService<IMeterFactory>());
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var letter = await LockedEmbeddedRoom.WaitForDeadLetterAsync(outbox, Delivery);
            letters.Calls.Should().Be(2, "the first holder's dead letter was refused, and the next claim wrote it");
            // Counted right after the letter is written, on the worker's thread: waited for, then exactly one.
            await Poll.UntilAsync(() => Task.FromResult(dead.Count > 0), TimeSpan.FromSeconds(5), "the dead letter is counted");
            dead.Count.Should().Be(1, "roomshare_webhook_deliveries_total{outcome=\"dead\"} counts the one letter written, not the refused one");
            receiver.All.Should().HaveCount(MaxAttempts, $"every attempt was made once and none after the letter failed; received: {receiver.Describe()}");
            letter.Attempts.Should().Be(MaxAttempts);
            letter.LastError.Should().Contain("500", "the last attempt's failure, as recorded");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ATakeoverThatFindsEveryAttemptMadeWritesTheDeadLetterWithoutSending()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, FastRetries());

        // The replica that died: it made the last attempt and recorded its failure, and died before the dead letter.
        var dead = await outbox.ClaimNextAsync("r1", "dead-replica", TimeSpan.FromSeconds(1));
        dead.Outcome.Should().Be(ClaimOutcome.Claimed);
        await outbox.SetDeliveryAsync(dead.Entry!, "dead-replica", receiver.Url,
            new EndpointDelivery(DeliveryStatuses.Pending, MaxAttempts, "HTTP 500 Internal Server Error"));

        await using var provider = InProcessDeliveryWorker.Build(options, outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var letter = await LockedEmbeddedRoom.WaitForDeadLetterAsync(outbox, Delivery);
            (letter.Attempts, letter.LastError).Should().Be((MaxAttempts, "HTTP 500 Internal Server Error"));
            receiver.All.Should().BeEmpty("the dead holder's attempts were all made");
            var record = (await outbox.RecordsAsync("r1")).Should().ContainSingle().Subject;
            record.Deliveries[receiver.Url].Status.Should().Be(DeliveryStatuses.Dead);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static WebhookOptions FastRetries() => new()
    {
        MaxAttempts = MaxAttempts,
        RetryBaseDelayMilliseconds = 10,
        RetryMaxDelayMilliseconds = 50,
        ClaimTimeoutSeconds = 1, // a claim whose round failed lapses a second later
        PollIntervalMilliseconds = 50,
    };

    /// <summary>The outbox, refusing the first dead letter as an unconfirmed write is refused (DESIGN.md §2).</summary>
    private sealed class FirstDeadLetterUnconfirmed(IOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private int _letters;

        /// <summary>Dead letters asked for: the first refused, the others written.</summary>
        public int Calls => Volatile.Read(ref _letters);

        public override Task DeadLetterAsync(DeadLetter letter) =>
            Interlocked.Increment(ref _letters) == 1
                ? throw RoomException.Unavailable("the dead letter was not confirmed (test)")
                : Inner.DeadLetterAsync(letter);
    }

    /// <summary>The <c>dead</c> outcomes this provider's webhook metrics count (only its meter factory's: other tests count too).</summary>
    private sealed class DeadOutcomes : IDisposable
    {
        private readonly MeterListener _listener;
        private int _count;

        public DeadOutcomes(IMeterFactory factory)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Name == "roomshare.webhook.deliveries" && ReferenceEquals(instrument.Meter.Scope, factory))
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "outcome" && tag.Value as string == "dead")
                    {
                        Interlocked.Add(ref _count, (int)value);
                    }
                }
            });
            _listener.Start();
        }

        public int Count => Volatile.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
