using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Orders;

public static class OrderHandoffExtensions
{
    /// <summary>
    /// Order hand-off (DESIGN.md §8): the webhook settings' validation, the signing HTTP client with its
    /// resilience pipeline, and the delivery worker. The outbox itself comes with the storage mode.
    /// </summary>
    public static WebApplicationBuilder AddOrderHandoff(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<RoomServerOptions>, WebhookOptionsValidator>();
        services.AddSingleton<OrderOutboxSignal>();
        services.TryAddSingleton<IOrderClaimPermit, AlwaysMayClaim>(); // the storage mode's, when it has one (Redis: ReplicaIdGuard)
        services.AddSingleton<WebhookMetrics>();
        services.AddWebhookClient();
        services.AddHostedService<OrderDeliveryWorker>();
        return builder;
    }

    /// <summary>
    /// The sender and its HTTP client: signing inside the resilience handler (once per attempt), no
    /// client-wide timeout (the pipeline bounds each attempt), and no redirects: a 3xx is not a delivery
    /// (DESIGN.md §8: 2xx only), and following it would turn the POST into a GET elsewhere.
    /// </summary>
    public static IHttpClientBuilder AddWebhookClient(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSender>();
        services.AddTransient<WebhookSigningHandler>();
        var client = services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        client.AddResilienceHandler("webhook-delivery", (pipeline, context) => WebhookSender.ConfigurePipeline(pipeline, context.ServiceProvider));

        // The framework's per-request lines name the URL with its path, where receivers often take a credential
        // (Slack's, Discord's). A level held in appsettings.json does not stop them: any provider's own rule
        // (Logging__Console__LogLevel__Default) outranks it. The sender logs each attempt itself, redacted (6001–6003).
        client.RemoveAllLoggers();
        client.AddHttpMessageHandler<WebhookSigningHandler>();
        return client;
    }
}
