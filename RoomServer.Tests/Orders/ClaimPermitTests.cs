using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A replica claims order records only while it may under its id (<see cref="IOrderClaimPermit"/>: with Redis, while
/// no other live process holds its ReplicaId, Redis/SharedReplicaIdTests). Meanwhile its own transitions are still
/// announced, so the process that holds the id finds them; a permit withdrawn mid-delivery stops it there. In process,
/// against an outbox that counts, or embedded mode's.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class ClaimPermitTests
{
    [Fact]
    public async Task NothingIsClaimedWhileThePermitIsWithheldAndEveryRoomOnceItIsGiven()
    {
        var outbox = new CountingOutbox();
        var permit = new SwitchedPermit();
        await using var provider = InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = new WebhookOptions { PollIntervalMilliseconds = 50 } }),
            outbox,
            permit);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var signal = provider.GetRequiredService<OrderOutboxSignal>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            signal.Notify("announced");
            await Poll.UntilAsync(() => outbox.Announced("announced") >= 1, TimeSpan.FromSeconds(10), "its own transition is announced");
            await Task.Delay(TimeSpan.FromSeconds(1)); // twenty polls
            outbox.Claims("polled").Should().Be(0, "no room of the index is claimed without the permit");
            outbox.Claims("announced").Should().Be(0, "nor one of its own transitions");

            permit.MayClaim = true;
            signal.Notify("announced");
            await Poll.UntilAsync(() => outbox.Claims("polled") >= 1 && outbox.Claims("announced") >= 1, TimeSpan.FromSeconds(10), "both rooms claimed");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The permit is withdrawn while a record is being retried (another process took this replica's id after a pause or an
    /// outage longer than its lease, DESIGN.md §9): the renewals of the two pass for each other's, so this process stops
    /// after its next failed attempt (6018), not only when the room next starts, and leaves the record pending for the id's holder.
    /// </summary>
    [Fact]
    public async Task ARecordInDeliveryStopsAfterTheNextAttemptOnceThePermitIsWithdrawn()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, LockedEmbeddedRoom.RetryingQuickly(claimTimeoutSeconds: 3)); // renewed every second
        var permit = new SwitchedPermit { MayClaim = true };
        await using var provider = InProcessDeliveryWorker.Build(options, outbox, permit);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await receiver.NextAsync(TimeSpan.FromSeconds(10));
            permit.MayClaim = false;
            await Poll.UntilAsync(() => Logged(provider, 6018), TimeSpan.FromSeconds(5), "the next failed attempt finds the permit withdrawn (6018)");

            // Retries came every 50–100 ms: none may follow once the worker knows.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            var attemptsAtStop = receiver.All.Count;
            await Task.Delay(TimeSpan.FromSeconds(1.2));
            receiver.All.Count.Should().Be(attemptsAtStop, "the process stops delivering once another holds its id");
            // Pending, or without a status yet: the attempt after the withdrawal is not recorded, since it may be over the holder's.
            (await outbox.RecordsAsync("r1")).Single().Deliveries.Values.Should().NotContain(
                d => d.Status != DeliveryStatuses.Pending, "the record is left to the id's holder, not settled or dead-lettered");
            (await outbox.DeadLettersAsync(null, 10)).Should().BeEmpty();
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The permit is withdrawn while the last attempt is on its way: the attempts are recorded, but the dead letter is the
    /// id's holder's to write (its claim finds them used up and writes it without another request), not this process's.
    /// </summary>
    [Fact]
    public async Task ALastAttemptThatFailsAfterThePermitIsWithdrawnLeavesTheDeadLetterToTheIdsHolder()
    {
        var permit = new SwitchedPermit { MayClaim = true };
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        var requests = 0;
        receiver.Answers = _ =>
        {
            if (Interlocked.Increment(ref requests) == 3)
            {
                permit.MayClaim = false; // another process took the id while the last attempt was on its way
            }

            return ReceiverAnswer.ServerError;
        };
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions
        {
            MaxAttempts = 3,
            RetryBaseDelayMilliseconds = 50,
            RetryMaxDelayMilliseconds = 100,
            ClaimTimeoutSeconds = 6, // the first renewal is 2 s away: all three attempts are made before it
            PollIntervalMilliseconds = 50,
        });
        await using var provider = InProcessDeliveryWorker.Build(options, outbox, permit);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Logged(provider, 6018), TimeSpan.FromSeconds(10), "the dead letter's renewal finds the permit withdrawn (6018)");
            await Task.Delay(TimeSpan.FromSeconds(1));
            (await outbox.DeadLettersAsync(null, 10)).Should().BeEmpty("the dead letter is the id's holder's to write");
            receiver.All.Should().HaveCount(3);
            (await outbox.RecordsAsync("r1")).Single().Deliveries[receiver.Url].Should().Be(
                new EndpointDelivery(DeliveryStatuses.Pending, 3, "HTTP 500 Internal Server Error"), "the attempts are recorded as used up for the holder");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The permit is withdrawn while a room's first record is delivered: its second is not claimed here.</summary>
    [Fact]
    public async Task ARoomsNextRecordIsNotClaimedOnceThePermitIsWithdrawn()
    {
        var permit = new SwitchedPermit { MayClaim = true };
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ =>
        {
            permit.MayClaim = false; // another process took the id while the first record was on its way
            return ReceiverAnswer.Ok;
        };
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions { PollIntervalMilliseconds = 50 }, thenReopened: true);
        await using var provider = InProcessDeliveryWorker.Build(options, outbox, permit);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var first = await receiver.NextAsync(TimeSpan.FromSeconds(10));
            await Poll.UntilAsync(() => Logged(provider, 6018), TimeSpan.FromSeconds(5), "the room's loop finds the permit withdrawn (6018)");
            await Task.Delay(TimeSpan.FromSeconds(1)); // twenty polls
            receiver.All.Select(w => w.OrderId).Should().Equal([first.OrderId], "only the record already on its way was sent");
            var records = await outbox.RecordsAsync("r1");
            records.Select(r => r.Type).Should().Equal("order.submitted", "order.reopened");
            records[1].Deliveries.Should().NotContainKey(receiver.Url, "the room's next record is left to the id's holder");
            (await outbox.ClaimNextAsync("r1", "other", TimeSpan.FromMinutes(1))).Entry!.OrderId.Should().Be(records[1].OrderId, "nobody holds it");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The store finds the permit gone while it works on a claim (scaled mode's dead letters of an unreadable record,
    /// UnreadableOrderRecordTests): the worker stops the room as after its own checks, with 6018 once, and claims nothing more.
    /// </summary>
    [Fact]
    public async Task APermitLostInsideTheClaimStopsTheRoomWith6018Once()
    {
        var permit = new SwitchedPermit { MayClaim = true };
        var outbox = new PermitLosingOutbox(permit);
        await using var provider = InProcessDeliveryWorker.Build(
            Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = new WebhookOptions { PollIntervalMilliseconds = 50 } }),
            outbox,
            permit);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Poll.UntilAsync(() => Logged(provider, 6018), TimeSpan.FromSeconds(10), "the worker says why it stopped (6018)");
            await Task.Delay(TimeSpan.FromSeconds(1)); // twenty polls
            outbox.Claims.Should().Be(1, "nothing is claimed once the permit is gone");
            provider.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Id == 6018).Should().ContainSingle()
                .Which.Message.Should().Contain("polled");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static Task<bool> Logged(ServiceProvider provider, int eventId) =>
        Task.FromResult(provider.GetFakeLogCollector().GetSnapshot().Any(r => r.Id.Id == eventId));

    private sealed class SwitchedPermit : IOrderClaimPermit
    {
        private volatile bool _mayClaim;

        public bool MayClaim
        {
            get => _mayClaim;
            set => _mayClaim = value;
        }
    }

    /// <summary>The index lists "polled"; a claim finds nothing to deliver.</summary>
    private sealed class CountingOutbox : IdleOrderOutbox
    {
        private readonly ConcurrentDictionary<string, int> _claims = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, int> _announced = new(StringComparer.Ordinal);

        public int Claims(string roomId) => _claims.GetValueOrDefault(roomId);

        public int Announced(string roomId) => _announced.GetValueOrDefault(roomId);

        public override Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) =>
            Task.FromResult<IReadOnlyList<OutboxRoom>>([new OutboxRoom("polled", 1)]);

        public override Task<long> AnnounceAsync(string roomId)
        {
            _announced.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            return Task.FromResult(1L);
        }

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            _claims.AddOrUpdate(roomId, 1, (_, n) => n + 1);
            return Task.FromResult(OutboxClaim.Empty);
        }
    }

    /// <summary>The index lists "polled"; its claim finds the permit gone (and withdraws it, as the guard would have).</summary>
    private sealed class PermitLosingOutbox(SwitchedPermit permit) : IdleOrderOutbox
    {
        private int _claims;

        public int Claims => Volatile.Read(ref _claims);

        public override Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count) =>
            Task.FromResult<IReadOnlyList<OutboxRoom>>([new OutboxRoom("polled", 1)]);

        public override Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
        {
            Interlocked.Increment(ref _claims);
            permit.MayClaim = false;
            return Task.FromResult(OutboxClaim.PermitLost);
        }
    }
}
