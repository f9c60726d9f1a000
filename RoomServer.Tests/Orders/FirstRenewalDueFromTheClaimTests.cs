using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A claim's idle time runs from the claim, so its first renewal is due a third of the claim timeout after the claim
/// call began, not after the delivery began: a claim that took long to hand its record out (a confirmation or a read
/// that took most of the store deadline) is renewed as soon as the delivery starts, so a claim of three store deadlines
/// is enough (DESIGN.md §8; timed from the delivery it took four and a half). The worker runs in process against embedded mode's
/// outbox, wrapped so the claim takes 3 s of a 6 s claim timeout, with a receiver that keeps failing (the delivery
/// goes on, renewing).
/// </summary>
[Trait("Suite", "Orders")]
public sealed class FirstRenewalDueFromTheClaimTests
{
    private static readonly TimeSpan SlowClaim = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ASlowClaimIsRenewedAThirdOfTheTimeoutAfterItBeganNotAfterTheDeliveryBegan()
    {
        SlowFirstClaim? slow = null;

        // A 6 s claim: a renewal every 2 s.
        await using var delivery = await RenewingDelivery.StartAsync(6, outbox => slow = new SlowFirstClaim(outbox));
        await Poll.UntilAsync(() => Task.FromResult(slow!.FirstRenewalAfter is not null), TimeSpan.FromSeconds(15), "the worker renews its claim while it retries");

        // Due 2 s after the claim began, which the 3 s claim had passed: renewed as the delivery starts, about 3 s in.
        // Counted from the delivery's start instead, it would come 5 s in, with 1 s of the claim left for a renewal
        // that may take the store deadline (2 s).
        slow!.FirstRenewalAfter.Should().BeGreaterThanOrEqualTo(SlowClaim - TimeSpan.FromMilliseconds(50), "nothing is renewed before the claim answered (its 3 s delay may end a millisecond early)");
        slow.FirstRenewalAfter.Should().BeLessThan(SlowClaim + TimeSpan.FromSeconds(1.2), "the first renewal was due before the claim answered");
    }

    /// <summary>The outbox, except that the first claim takes <see cref="SlowClaim"/> to answer; when the first renewal came.</summary>
    private sealed class SlowFirstClaim(InMemoryOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private readonly System.Diagnostics.Stopwatch _sinceClaimBegan = new();
        private int _claims;
        private long _firstRenewalTicks = -1;

        public TimeSpan? FirstRenewalAfter => Interlocked.Read(ref _firstRenewalTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

        public override async Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            if (Interlocked.Increment(ref _claims) == 1)
            {
                _sinceClaimBegan.Start();
                await Task.Delay(SlowClaim);
            }

            return await Inner.ClaimNextAsync(roomId, consumer, claimTimeout);
        }

        public override Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
        {
            Interlocked.CompareExchange(ref _firstRenewalTicks, _sinceClaimBegan.Elapsed.Ticks, -1);
            return Inner.KeepClaimAsync(entry, consumer);
        }
    }
}
