using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// This replica's transitions while the outbox index is slow to answer (its shard failing over, say): each room's
/// announcement waits for the index on its own, so one that has not been answered holds neither the other rooms'
/// starts nor the worker's polls (DESIGN.md §8: the writer's replica starts on a new record at once).
/// </summary>
[Trait("Suite", "Orders")]
public sealed class SlowIndexAnnouncementTests
{
    [Fact]
    public async Task ARoomWhoseAnnouncementIsUnansweredHoldsNeitherAnotherRoomsStartNorThePolls()
    {
        var outbox = new OneSlowAnnouncement();
        await using var provider = InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = new WebhookOptions { PollIntervalMilliseconds = 100 } }),
            outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var signal = provider.GetRequiredService<OrderOutboxSignal>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            signal.Notify(OneSlowAnnouncement.SlowRoom);
            await outbox.SlowAnnouncementStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var pollsBefore = outbox.Polls;

            signal.Notify("quick");
            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims("quick") >= 1), TimeSpan.FromSeconds(10), "the other room starts while the first announcement waits");
            await Poll.UntilAsync(() => Task.FromResult(outbox.Polls >= pollsBefore + 2), TimeSpan.FromSeconds(10), "the worker keeps polling meanwhile");
            outbox.Claims(OneSlowAnnouncement.SlowRoom).Should().Be(0, "a room starts once its announcement is answered (or fails)");

            outbox.AnswerSlowAnnouncement();
            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims(OneSlowAnnouncement.SlowRoom) >= 1), TimeSpan.FromSeconds(10), "then the slow room starts too");
        }
        finally
        {
            outbox.AnswerSlowAnnouncement();
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>One room's announcement waits until the test answers it; every claim finds nothing; polls are counted.</summary>
    private sealed class OneSlowAnnouncement : IdleOrderOutbox
    {
        public const string SlowRoom = "slow";

        private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<string, int> _claims = new(StringComparer.Ordinal);
        private int _polls;

        public TaskCompletionSource SlowAnnouncementStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Polls => Volatile.Read(ref _polls);

        public int Claims(string roomId) => _claims.GetValueOrDefault(roomId);

        public void AnswerSlowAnnouncement() => _answer.TrySetResult();

        public override Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count)
        {
            Interlocked.Increment(ref _polls);
            return base.RoomsWithWorkAsync(count);
        }

        public override async Task<long> AnnounceAsync(string roomId)
        {
            if (roomId == SlowRoom)
            {
                SlowAnnouncementStarted.TrySetResult();
                await _answer.Task;
            }

            return 1;
        }

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            _claims.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            return Task.FromResult(OutboxClaim.Empty);
        }
    }
}
