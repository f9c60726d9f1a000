using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The delivery worker writes a dead letter, then the endpoint's "dead" status. An operator's retry that
/// lands between the two (DESIGN.md §8: "a retried dead letter goes back to pending") must still be
/// delivered, though the worker's "dead" overwrote the retry's "pending". The worker runs in process,
/// against embedded mode's outbox and a real HTTP receiver; the outbox is wrapped so the retry happens
/// exactly in that window.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class DeadLetterRetryRaceTests
{
    [Fact]
    public async Task ARetryThatLandsBetweenTheDeadLetterAndItsStatusIsStillDelivered()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = n => n == 0 ? ReceiverAnswer.ServerError : ReceiverAnswer.Ok;
        await receiver.StartAsync();
        var (options, outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions { MaxAttempts = 1, PollIntervalMilliseconds = 50 });
        var racing = new RetryBetweenDeadLetterAndStatus(outbox);

        await using var provider = InProcessDeliveryWorker.Build(options, racing);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var refused = await receiver.NextAsync(TimeSpan.FromSeconds(10));
            refused.Answer.Should().Be(ReceiverAnswer.ServerError);
            var delivered = await receiver.NextDeliveredAsync(TimeSpan.FromSeconds(10));
            racing.RetriedInTheWindow.Should().BeTrue("the retry landed after the dead letter, before its status");
            (delivered.OrderId, delivered.Body).Should().Be((refused.OrderId, refused.Body), "a retried dead letter keeps its orderId and body");

            await Poll.UntilAsync(
                async () => (await outbox.RecordsAsync("r1")).Single().Deliveries[receiver.Url].Status == DeliveryStatuses.Delivered,
                TimeSpan.FromSeconds(10),
                "the operator view says delivered");
            (await outbox.DeadLettersAsync(null, 1000)).Should().BeEmpty();
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The outbox, except that right after the first dead letter is written the operator retries it.</summary>
    private sealed class RetryBetweenDeadLetterAndStatus(IOrderOutbox inner) : ForwardingOrderOutbox(inner)
    {
        private int _retried;

        public bool RetriedInTheWindow => Volatile.Read(ref _retried) == 1;

        public override async Task DeadLetterAsync(DeadLetter letter)
        {
            await Inner.DeadLetterAsync(letter);
            if (Interlocked.Exchange(ref _retried, 1) == 0)
            {
                var written = (await Inner.DeadLettersAsync(null, 1000)).Single(d => d.OrderId == letter.OrderId);
                (await Inner.RetryAsync(written.Id)).Should().NotBeNull();
            }
        }
    }
}
