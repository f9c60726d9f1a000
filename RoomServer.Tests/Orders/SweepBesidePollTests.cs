using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The outbox sweep (indexing outboxes no announcement reached) takes as long as the keyspace is large.
/// It runs beside the delivery worker's poll, so meanwhile a transition on this replica still starts its
/// room at once (DESIGN.md §8) instead of waiting for the sweep — it used to run inside the poll loop.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class SweepBesidePollTests
{
    [Fact]
    public async Task ATransitionStartsItsRoomWhileASweepIsStillRunning()
    {
        var outbox = new SlowSweep();
        await using var provider = InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = new WebhookOptions { PollIntervalMilliseconds = 50 } }),
            outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var signal = provider.GetRequiredService<OrderOutboxSignal>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await outbox.SweepStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
            signal.Notify("room-1");

            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims("room-1") >= 1), TimeSpan.FromSeconds(10), "the announced room is claimed while the sweep runs");
            outbox.SweepStarted.Task.IsCompleted.Should().BeTrue();
            outbox.Sweeping.Should().BeTrue("the sweep had not finished when the room was claimed");
        }
        finally
        {
            outbox.FinishSweep();
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task StoppingTheReplicaEndsASweepThatIsStillRunning()
    {
        var outbox = new SlowSweep();
        await using var provider = InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = new WebhookOptions { PollIntervalMilliseconds = 50 } }),
            outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();

        await worker.StartAsync(CancellationToken.None);
        await outbox.SweepStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await worker.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        outbox.Sweeping.Should().BeFalse("the sweep was cancelled with the worker, not left running");
    }

    /// <summary>An outbox whose sweep runs until the test ends it; every claim finds nothing to deliver.</summary>
    private sealed class SlowSweep : IdleOrderOutbox
    {
        private readonly ConcurrentDictionary<string, int> _claims = new(StringComparer.Ordinal);
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _sweeping;

        public TaskCompletionSource SweepStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Sweeping => Volatile.Read(ref _sweeping) == 1;

        public int Claims(string roomId) => _claims.GetValueOrDefault(roomId);

        public void FinishSweep() => _finish.TrySetResult();

        public override async Task SweepAsync(CancellationToken cancellationToken)
        {
            Volatile.Write(ref _sweeping, 1);
            SweepStarted.TrySetResult();
            try
            {
                await _finish.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Volatile.Write(ref _sweeping, 0);
            }
        }

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            _claims.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            return Task.FromResult(OutboxClaim.Empty);
        }
    }
}
