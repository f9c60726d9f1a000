using OpenTelemetry.Metrics;

namespace RoomShare.RoomServer.Metrics;

public static class MetricsExtensions
{
    /// <summary>The <c>RoomShare</c> meter, read by OpenTelemetry and exported in Prometheus text.</summary>
    public static WebApplicationBuilder AddRoomMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RoomMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(RoomMetrics.MeterName)
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary><c>GET /metrics</c>, unauthenticated (DESIGN §4): bind or filter it in production.</summary>
    public static IEndpointRouteBuilder MapRoomMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
