using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A replica that could not read a room's oldest record (ClaimOutcome.LeftForOthers) stays away from the
/// room for twice the claim timeout, so the other replicas claim that record first (DESIGN.md §8) — also
/// when its own store announces a new transition in the room, which otherwise starts a room at once.
/// The worker runs in process against an outbox that stands in for one whose record cannot be read here
/// (the real one, end to end: UnreadableOrderRecordTests).
/// </summary>
[Trait("Suite", "Orders")]
public sealed class LeftForOthersHoldTests
{
    [Fact]
    public async Task NeitherPollsNorItsOwnAnnouncementsClaimARoomAgainWhileItIsLeftForOthers()
    {
        var outbox = new UnreadableHere();
        await using var provider = Worker(outbox, claimTimeoutSeconds: 3);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var signal = provider.GetRequiredService<OrderOutboxSignal>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims("left") == 1), TimeSpan.FromSeconds(10), "the first poll claims the room");

            // For 1.5 s (the hold is 6 s): polls every 50 ms, and this replica's own transitions in both rooms.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
            while (DateTime.UtcNow < until)
            {
                signal.Notify("left");
                signal.Notify("other");
                await Task.Delay(100);
            }

            outbox.Claims("left").Should().Be(1, "the room whose record it could not read is left to the others");
            outbox.Claims("other").Should().BeGreaterThan(1, "another room is not held (the worker did run)");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task TheHoldEndsAfterTwiceTheClaimTimeout()
    {
        var outbox = new UnreadableHere();
        await using var provider = Worker(outbox, claimTimeoutSeconds: 1);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims("left") == 1), TimeSpan.FromSeconds(10), "the first poll claims the room");
            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims("left") >= 2), TimeSpan.FromSeconds(10), "the room is claimed again once its 2 s hold ends");
            var (first, second) = outbox.FirstTwoClaimsOf("left");
            (second - first).Should().BeGreaterThan(TimeSpan.FromSeconds(1.5), "it stayed away about twice the claim timeout (polls come every 50 ms)");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static ServiceProvider Worker(IOrderOutbox outbox, int claimTimeoutSeconds) =>
        InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions
            {
                ReplicaId = "r1",
                Webhooks = new WebhookOptions { ClaimTimeoutSeconds = claimTimeoutSeconds, PollIntervalMilliseconds = 50 },
            }),
            outbox);

    /// <summary>Two rooms with work: "left" has a record this replica cannot read; "other" has none left.</summary>
    private sealed class UnreadableHere : IdleOrderOutbox
    {
        private readonly ConcurrentDictionary<string, int> _claims = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<(string RoomId, DateTime At)> _claimed = new();

        public int Claims(string roomId) => _claims.GetValueOrDefault(roomId);

        public (DateTime First, DateTime Second) FirstTwoClaimsOf(string roomId)
        {
            var times = _claimed.Where(c => c.RoomId == roomId).Select(c => c.At).Take(2).ToList();
            return (times[0], times[1]);
        }

        public override Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) =>
            Task.FromResult<IReadOnlyList<OutboxRoom>>([new OutboxRoom("left", 1), new OutboxRoom("other", 1)]);

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            _claims.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            _claimed.Enqueue((roomId, DateTime.UtcNow));
            return Task.FromResult(roomId == "left" ? OutboxClaim.LeftForOthers : OutboxClaim.Empty);
        }
    }
}
