using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The backoff goes on across a takeover (DESIGN.md §8: attempts are counted across takeovers, and so is the series of
/// waits): a replica that takes over a record its dead holder had tried four times waits, after its own first failure,
/// the fifth retry's backoff, not the first's — started over, a record that changes hands would spend its attempts within
/// seconds and be dead-lettered long before <c>MaxAttempts</c>' backoff says. The worker runs in process against embedded
/// mode's outbox; the dead holder is a claim the test makes, with the status it wrote before it died; a receiver that
/// keeps failing.
/// </summary>
[Trait("Suite", "Orders")]
public sealed partial class BackoffAfterTakeoverTests
{
    private const int EarlierAttempts = 4;

    private const int BaseMilliseconds = 100;

    /// <summary>Above the fifth retry's wait, so the series shows and is not capped.</summary>
    private const int MaxMilliseconds = 3000;

    /// <summary>What a timer may fire early by, at most: rounding.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ARecordTakenOverAfterFourAttemptsWaitsTheFifthRetrysBackoffNotTheFirsts()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions
        {
            MaxAttempts = EarlierAttempts + 2, // the new holder's two attempts: the wait between them is the test
            RetryBaseDelayMilliseconds = BaseMilliseconds,
            RetryMaxDelayMilliseconds = MaxMilliseconds,
            ClaimTimeoutSeconds = 1, // the dead holder's claim lapses a second after the test made it
            PollIntervalMilliseconds = 50,
        });

        // The replica that died: it held the record and recorded its fourth failed attempt, the next one due now.
        var dead = await outbox.ClaimNextAsync("r1", "dead-replica", TimeSpan.FromSeconds(1));
        dead.Outcome.Should().Be(ClaimOutcome.Claimed);
        await outbox.SetDeliveryAsync(dead.Entry!, "dead-replica", receiver.Url,
            new EndpointDelivery(DeliveryStatuses.Pending, EarlierAttempts, "HTTP 500 Internal Server Error", DateTimeOffset.UtcNow));
        var statuses = new StatusesWritten(outbox);

        await using var provider = InProcessDeliveryWorker.Build(options, statuses);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var fifth = await receiver.NextAsync(Delivery);
            var sixth = await receiver.NextAsync(Delivery);
            var letter = await LockedEmbeddedRoom.WaitForDeadLetterAsync(outbox, Delivery);

            // Retry 4 (the fifth wait, 0 for the first) is the base doubled four times, ±25 % within the bounds (RetryBackoff).
            var series = BaseMilliseconds * Math.Pow(2, EarlierAttempts);
            var (shortest, longest) = (TimeSpan.FromMilliseconds(series * 0.75), TimeSpan.FromMilliseconds(series * 1.25));
            var drawn = statuses.WaitAfter(EarlierAttempts + 1);
            drawn.Should().BeGreaterThanOrEqualTo(shortest - TimeSpan.FromMilliseconds(1), "the series goes on from the dead holder's attempts (the wait is logged in whole ms)")
                .And.BeLessThanOrEqualTo(longest + TimeSpan.FromMilliseconds(1));
            (sixth.At - fifth.At).Should().BeGreaterThanOrEqualTo(shortest - Slack, $"the new holder waited it out (drawn: {drawn.TotalMilliseconds} ms; received: {receiver.Describe()})");
            letter.Attempts.Should().Be(EarlierAttempts + 2, "the dead holder's attempts count");
            sixth.Body.Should().Be(fifth.Body);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [GeneratedRegex(@"next attempt in (\d+) ms$")]
    private static partial Regex NextAttemptIn();

    /// <summary>The outbox, keeping every delivery status the worker writes (each failed attempt's says the wait it drew).</summary>
    private sealed class StatusesWritten(IOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private readonly ConcurrentQueue<EndpointDelivery> _written = new();

        public override Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery)
        {
            _written.Enqueue(delivery);
            return Inner.SetDeliveryAsync(entry, consumer, endpoint, delivery);
        }

        /// <summary>The wait the worker drew after failed attempt <paramref name="attempts"/> (1 for the first), as it recorded it.</summary>
        public TimeSpan WaitAfter(int attempts)
        {
            var status = _written.Should().ContainSingle(d => d.Status == DeliveryStatuses.Pending && d.Attempts == attempts,
                $"attempt {attempts} failed and was recorded; written: {string.Join("; ", _written)}").Which;
            var wait = NextAttemptIn().Match(status.LastError ?? "");
            wait.Success.Should().BeTrue($"the recorded error says the wait: {status.LastError}");
            return TimeSpan.FromMilliseconds(int.Parse(wait.Groups[1].Value, CultureInfo.InvariantCulture));
        }
    }
}
