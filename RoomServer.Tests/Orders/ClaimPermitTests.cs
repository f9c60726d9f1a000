using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// A replica claims order records only while it may under its id (<see cref="IOrderClaimPermit"/>: with Redis, while
/// no other live process holds its ReplicaId, Redis/SharedReplicaIdTests). Meanwhile its own transitions are still
/// announced, so the process that holds the id finds them. In process, against an outbox that counts.
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
}
