using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Room "r1" in embedded mode's store, locked, so its outbox holds one <c>order.submitted</c> record for
/// a receiver: the one endpoint of the webhook settings the caller gives. With <c>thenReopened</c> it is reopened
/// after, for a second record behind the first (<c>order.reopened</c>).
/// </summary>
internal static class LockedEmbeddedRoom
{
    public static async Task<(IOptions<RoomServerOptions> Options, InMemoryOrderOutbox Outbox)> StartAsync(
        WebhookReceiver receiver, WebhookOptions webhooks, bool thenReopened = false)
    {
        webhooks.Endpoints = [new WebhookEndpoint { Url = receiver.Url, Secret = receiver.Secret }];
        var options = Options.Create(new RoomServerOptions { ReplicaId = "r1", Webhooks = webhooks });
        var outbox = new InMemoryOrderOutbox(new OrderOutboxSignal(), options, TimeProvider.System);
        var store = new InMemoryRoomStore(new InProcessBackplane(), outbox, options, TimeProvider.System);
        (await store.CreateAsync(new NewRoom("r1", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None))
            .Should().BeTrue();
        await store.SetStateAsync(new StateChange("r1", RoomStates.Locked, "api", "t"), CancellationToken.None);
        if (thenReopened)
        {
            await store.SetStateAsync(new StateChange("r1", RoomStates.Open, "api", "t"), CancellationToken.None);
        }

        return (options, outbox);
    }

    /// <summary>
    /// Webhook settings for a receiver that keeps failing: up to 100 attempts 50–100 ms apart, so the delivery goes on,
    /// its claim renewed every third of <paramref name="claimTimeoutSeconds"/>; the index polled every 50 ms.
    /// </summary>
    public static WebhookOptions RetryingQuickly(int claimTimeoutSeconds) => new()
    {
        MaxAttempts = 100,
        RetryBaseDelayMilliseconds = 50,
        RetryMaxDelayMilliseconds = 100,
        ClaimTimeoutSeconds = claimTimeoutSeconds,
        PollIntervalMilliseconds = 50,
    };

    /// <summary>The room's record's one dead letter, once it is written (within <paramref name="timeout"/>).</summary>
    public static async Task<DeadLetter> WaitForDeadLetterAsync(InMemoryOrderOutbox outbox, TimeSpan timeout)
    {
        DeadLetter? letter = null;
        await Poll.UntilAsync(
            async () => (letter = (await outbox.DeadLettersAsync(null, 10)).SingleOrDefault()) is not null,
            timeout,
            "the record dead-lettered");
        return letter!;
    }
}
