using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// When a claim's renewals go out (DESIGN.md §8). A claim lapses a timeout after the last renewal that landed, so a renewal
/// the store could not answer (Redis away, or past its deadline) is tried again a second later, not a whole renewal period
/// later; once a renewal lands, the next is a period away again. And a slow answer does not push the next renewal later:
/// each is due a period after the one before was sent. A run of failed renewals is logged once (6017). The worker runs in
/// process against embedded mode's outbox, wrapped, with a receiver that keeps failing (the delivery goes on, renewing).
/// </summary>
[Trait("Suite", "Orders")]
public sealed class RenewalCadenceTests
{
    [Fact]
    public async Task AFailedRenewalIsTriedAgainWithinASecondThenThePeriodResumes()
    {
        FirstRenewalFails? failing = null;

        // A 12 s claim: a renewal every 4 s; a failed one tried again after 1 s.
        await using var delivery = await RenewingDelivery.StartAsync(12, outbox => failing = new FirstRenewalFails(outbox));
        await Poll.UntilAsync(() => Task.FromResult(failing!.Renewals.Count >= 3), TimeSpan.FromSeconds(20), "the worker renews its claim three times while it retries");

        var renewals = failing!.Renewals;
        var retryAfter = renewals[1] - renewals[0];
        var periodAfter = renewals[2] - renewals[1];
        retryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9), "a failed renewal is not retried in a tight loop");
        retryAfter.Should().BeLessThan(TimeSpan.FromSeconds(3.5), "a failed renewal is tried again after a second, not after the 4 s period");
        periodAfter.Should().BeGreaterThan(TimeSpan.FromSeconds(3.5), "once a renewal lands, the next is a period away");
    }

    [Fact]
    public async Task ASlowRenewalDoesNotPushTheNextOneLater()
    {
        SlowRenewals? slow = null;

        // A 9 s claim: a renewal every 3 s.
        await using var delivery = await RenewingDelivery.StartAsync(9, outbox => slow = new SlowRenewals(outbox, TimeSpan.FromSeconds(2)));
        await Poll.UntilAsync(() => Task.FromResult(slow!.Sent.Count >= 3), TimeSpan.FromSeconds(20), "the worker renews its claim three times while it retries");

        // Each renewal takes 2 s to answer. Due from the send, they go out 3 s apart; from the answer, 5 s apart, and
        // the claim's idle time would reach 7 s of its 9 before a renewal landed.
        var sent = slow!.Sent;
        (sent[1] - sent[0]).Should().BeLessThan(TimeSpan.FromSeconds(4.2), "the next renewal is due a period after the last was sent");
        (sent[2] - sent[1]).Should().BeLessThan(TimeSpan.FromSeconds(4.2), "the next renewal is due a period after the last was sent");
        (sent[1] - sent[0]).Should().BeGreaterThan(TimeSpan.FromSeconds(2.5), "not sooner than the period");
    }

    /// <summary>
    /// Log 6017, "once a run" (DESIGN.md §8: a renewal the store could not answer is tried again a second later): a run of
    /// failed renewals logs it at its first failure alone, and once a renewal has landed, the next run's first failure logs
    /// it again. Renewals 0–2 fail, 3 lands, 4–6 fail, then every one lands; each 6017 is matched to the renewal it followed.
    /// </summary>
    [Fact]
    public async Task ARunOfFailedRenewalsIsLoggedOnceAndTheNextRunAfterARenewalLandedAgain()
    {
        RenewalRuns? runs = null;

        // A 6 s claim: a renewal every 2 s, a failed one tried again after 1 s; neither run lapses it (idle 5 s at most).
        await using var delivery = await RenewingDelivery.StartAsync(6, outbox => runs = new RenewalRuns(outbox, n => n is (>= 0 and <= 2) or (>= 4 and <= 6)));
        // The worker logs a failure before it waits for the next renewal: once the ninth renewal has begun, the eighth
        // (the second run's end) and every failure before it have been logged.
        await Poll.UntilAsync(() => runs!.Started.Count >= 9, TimeSpan.FromSeconds(30), () => $"nine renewals; {runs!.Started.Count} so far");

        var started = runs!.Started;
        var logged = delivery.Logs.GetSnapshot().Where(r => r.Id.Id == 6017).ToList();
        var followed = logged.Select(r => started.Count(s => s <= r.Timestamp) - 1).ToList();
        followed.Should().Equal([0, 4], $"each run of failed renewals (0–2, then 4–6) is logged once, at its first failure; renewals began at {string.Join(", ", started.Select(s => s.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)))}");
        logged.Should().OnlyContain(r => r.Message.Contains("r1", StringComparison.Ordinal) && r.Level == Microsoft.Extensions.Logging.LogLevel.Warning,
            "a warning naming the room");
    }

    /// <summary>The outbox, except that the renewals <paramref name="fails"/> says (by their 0-based number) fail as a store past its deadline does; when each began.</summary>
    private sealed class RenewalRuns(InMemoryOrderOutbox inner, Func<int, bool> fails) : ForwardingOrderOutbox(inner)
    {
        private readonly List<DateTimeOffset> _started = [];

        public IReadOnlyList<DateTimeOffset> Started
        {
            get
            {
                lock (_started)
                {
                    return [.. _started];
                }
            }
        }

        public override Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            int n;
            lock (_started)
            {
                n = _started.Count;
                _started.Add(TimeProvider.System.GetUtcNow());
            }

            return fails(n)
                ? Task.FromException<bool>(new RoomException(RoomErrorCodes.Unavailable, "the store did not answer within its deadline"))
                : Inner.KeepClaimAsync(entry, consumer);
        }
    }

    /// <summary>The outbox, except that every renewal takes <paramref name="answerAfter"/> to answer; when each was sent.</summary>
    private sealed class SlowRenewals(InMemoryOrderOutbox inner, TimeSpan answerAfter) : ForwardingOrderOutbox(inner)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly List<TimeSpan> _sent = [];

        public IReadOnlyList<TimeSpan> Sent
        {
            get
            {
                lock (_sent)
                {
                    return [.. _sent];
                }
            }
        }

        public override async Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            lock (_sent)
            {
                _sent.Add(_clock.Elapsed);
            }

            await Task.Delay(answerAfter);
            return await Inner.KeepClaimAsync(entry, consumer);
        }
    }

    /// <summary>The outbox, except that its first renewal fails as a store past its deadline does; when each renewal came.</summary>
    private sealed class FirstRenewalFails(InMemoryOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly List<TimeSpan> _renewals = [];

        public IReadOnlyList<TimeSpan> Renewals
        {
            get
            {
                lock (_renewals)
                {
                    return [.. _renewals];
                }
            }
        }

        public override Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            bool first;
            lock (_renewals)
            {
                first = _renewals.Count == 0;
                _renewals.Add(_clock.Elapsed);
            }

            return first
                ? Task.FromException<bool>(new RoomException(RoomErrorCodes.Unavailable, "the store did not answer within its deadline"))
                : Inner.KeepClaimAsync(entry, consumer);
        }
    }
}
