using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A transition on this replica while its delivery of the room is ending: the run found the room empty just before the
/// new record was written, and its forget drops the room from the index (the announcement failed, the index on a shard
/// that is away, so the index kept the run's own mark). The room starts again when the run ends, instead of waiting up
/// to a sweep interval (DESIGN.md §8: the writer's replica starts on a new record at once). The worker runs in process
/// against an outbox that stages that order of events.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class AnnouncedDuringRunTests
{
    [Fact]
    public async Task ARoomAnnouncedWhileItsRunIsForgettingItIsClaimedAgainWhenTheRunEnds()
    {
        var outbox = new ForgetHeldOpen();
        await using var provider = Worker(outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var signal = provider.GetRequiredService<OrderOutboxSignal>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await outbox.Forgetting.Task.WaitAsync(TimeSpan.FromSeconds(10));
            outbox.Claims.Should().Be(1, "the first poll's run claimed once and found the room empty");

            // The new record's transition, announced while the run is forgetting the room.
            signal.Notify(ForgetHeldOpen.Room);
            await Poll.UntilAsync(() => Task.FromResult(outbox.Announcements == 1), TimeSpan.FromSeconds(10), "the transition is announced");

            // The failed announcement's start follows at once; released before it, the run would end first and the start
            // would find the room free, which is no test of a room announced during its run.
            await Task.Delay(500);
            outbox.FinishForgetting();

            await Poll.UntilAsync(() => Task.FromResult(outbox.Claims >= 2), TimeSpan.FromSeconds(10), "the room is claimed again once its run ends");
        }
        finally
        {
            outbox.FinishForgetting();
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ARunThatEndsWithoutAnAnnouncementIsNotStartedAgain()
    {
        var outbox = new ForgetHeldOpen();
        await using var provider = Worker(outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await outbox.Forgetting.Task.WaitAsync(TimeSpan.FromSeconds(10));
            outbox.FinishForgetting();
            await Poll.UntilAsync(() => Task.FromResult(outbox.Forgotten == 1), TimeSpan.FromSeconds(10), "the run forgets the room");

            await Task.Delay(500);
            outbox.Claims.Should().Be(1, "nothing was announced during the run, so nothing starts it again");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The worker over the outbox; neither a poll nor a sweep may be what finds the room again within a test.</summary>
    private static ServiceProvider Worker(IOrderOutbox outbox) =>
        InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions
            {
                ReplicaId = "r1",
                Webhooks = new WebhookOptions { PollIntervalMilliseconds = 60_000, SweepIntervalSeconds = 3600 },
            }),
            outbox);

    /// <summary>
    /// One room in the index for the first poll only; every claim finds it empty; the first forget waits for the test;
    /// every announcement fails as an unreachable index does.
    /// </summary>
    private sealed class ForgetHeldOpen : IdleOrderOutbox
    {
        public const string Room = "room-1";

        private readonly TaskCompletionSource _finishForgetting = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _claimed = new();
        private int _polls;
        private int _announcements;
        private int _forgotten;

        public TaskCompletionSource Forgetting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Claims => _claimed.Count;

        public int Announcements => Volatile.Read(ref _announcements);

        public int Forgotten => Volatile.Read(ref _forgotten);

        public void FinishForgetting() => _finishForgetting.TrySetResult();

        public override Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) =>
            Task.FromResult<IReadOnlyList<OutboxRoom>>(Interlocked.Increment(ref _polls) == 1 ? [new OutboxRoom(Room, 1)] : []);

        public override Task<long> AnnounceAsync(string roomId)
        {
            Interlocked.Increment(ref _announcements);
            throw RoomException.Unavailable("the outbox index is not answering");
        }

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            _claimed.Enqueue(roomId);
            return Task.FromResult(OutboxClaim.Empty);
        }

        public override async Task ForgetAsync(OutboxRoom room)
        {
            Forgetting.TrySetResult();
            await _finishForgetting.Task;
            Interlocked.Increment(ref _forgotten);
        }
    }
}
