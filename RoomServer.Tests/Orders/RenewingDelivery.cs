using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The worker in process, delivering room r1's one record (<see cref="LockedEmbeddedRoom"/>) to a receiver that keeps
/// failing, so the delivery goes on, renewing its claim every third of <c>claimTimeoutSeconds</c>; over embedded mode's
/// outbox, wrapped as the test chooses. Started once the first request has reached the receiver.
/// </summary>
internal sealed class RenewingDelivery : IAsyncDisposable
{
    private readonly WebhookReceiver _receiver;
    private readonly ServiceProvider _provider;
    private readonly OrderDeliveryWorker _worker;

    private RenewingDelivery(WebhookReceiver receiver, ServiceProvider provider, OrderDeliveryWorker worker)
    {
        _receiver = receiver;
        _provider = provider;
        _worker = worker;
    }

    public static async Task<RenewingDelivery> StartAsync(int claimTimeoutSeconds, Func<InMemoryOrderOutbox, IOrderOutbox> wrap)
    {
        var receiver = new WebhookReceiver("a-secret-of-enough-length");
        receiver.Answers = _ => ReceiverAnswer.ServerError;
        IOrderOutbox wrapped;
        Microsoft.Extensions.Options.IOptions<RoomServerOptions> options;
        try
        {
            await receiver.StartAsync();
            (options, var outbox) = await LockedEmbeddedRoom.StartAsync(receiver, new WebhookOptions
            {
                MaxAttempts = 100,
                RetryBaseDelayMilliseconds = 200,
                RetryMaxDelayMilliseconds = 400,
                ClaimTimeoutSeconds = claimTimeoutSeconds,
                PollIntervalMilliseconds = 50,
            });
            wrapped = wrap(outbox);
        }
        catch
        {
            await receiver.DisposeAsync();
            throw;
        }

        var provider = InProcessDeliveryWorker.Build(options, wrapped);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        var delivery = new RenewingDelivery(receiver, provider, worker);
        try
        {
            await worker.StartAsync(CancellationToken.None);
            await receiver.NextAsync(TimeSpan.FromSeconds(15));
            return delivery;
        }
        catch
        {
            await delivery.DisposeAsync();
            throw;
        }
    }

    /// <summary>What the worker logged so far.</summary>
    public FakeLogCollector Logs => _provider.GetFakeLogCollector();

    public async ValueTask DisposeAsync()
    {
        await _worker.StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
        await _receiver.DisposeAsync();
    }
}
