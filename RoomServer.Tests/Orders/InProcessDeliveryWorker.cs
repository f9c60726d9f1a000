using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// The delivery worker in the test process, as the replica wires it (the signing HTTP client included),
/// over an outbox the test chooses. Resolve <see cref="OrderDeliveryWorker"/> and start it; its log is in
/// <c>GetFakeLogCollector()</c>.
/// </summary>
internal static class InProcessDeliveryWorker
{
    public static ServiceProvider Build(IOptions<RoomServerOptions> options, IOrderOutbox outbox, IOrderClaimPermit? permit = null)
    {
        var services = new ServiceCollection();
        services.AddFakeLogging();
        services.AddMetrics();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(outbox);
        services.AddSingleton<OrderOutboxSignal>();
        services.AddSingleton(permit ?? new AlwaysMayClaim());
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<OrderDeliveryWorker>();
        services.AddWebhookClient();
        return services.BuildServiceProvider();
    }
}
