using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace RoomShare.RoomServer.Metrics;

public static class MetricsExtensions
{
    /// <summary>
    /// The runtime's and ASP.NET Core's own meters (GC, thread pool, exceptions; HTTP requests, Kestrel
    /// and SignalR connections, routing, auth). Built into .NET 9+, so reading them needs no
    /// instrumentation package — OpenTelemetry.Instrumentation.Runtime/AspNetCore add these same meters.
    /// </summary>
    public static readonly IReadOnlyList<string> PlatformMeters =
    [
        "System.Runtime",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.Authentication",
        "Microsoft.AspNetCore.Authorization",
        "Microsoft.AspNetCore.RateLimiting",
    ];

    /// <summary>
    /// The <c>RoomShare</c> meter and the platform's, read by OpenTelemetry and served in Prometheus text;
    /// pushed over OTLP as well when <see cref="OtlpExportSettings.EndpointSetting"/> or the metrics signal's own
    /// <see cref="OtlpExportSettings.MetricsEndpointSetting"/> is configured (the standard OTEL_EXPORTER_OTLP_* variables
    /// apply), which is checked at start.
    /// </summary>
    public static WebApplicationBuilder AddRoomMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RoomMetrics>();
        var otlp = new OtlpExportSettings
        {
            Endpoint = builder.Configuration[OtlpExportSettings.EndpointSetting],
            Protocol = builder.Configuration[OtlpExportSettings.ProtocolSetting],
            MetricsEndpoint = builder.Configuration[OtlpExportSettings.MetricsEndpointSetting],
            MetricsProtocol = builder.Configuration[OtlpExportSettings.MetricsProtocolSetting],
        };
        builder.Services.AddOptions<OtlpExportSettings>()
            .Configure(o => (o.Endpoint, o.Protocol, o.MetricsEndpoint, o.MetricsProtocol) = (otlp.Endpoint, otlp.Protocol, otlp.MetricsEndpoint, otlp.MetricsProtocol))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OtlpExportSettings>, OtlpExportSettingsValidator>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                "roomshare",
                serviceInstanceId: builder.Configuration["RoomServer:ReplicaId"] is { Length: > 0 } replica ? replica : Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RoomMetrics.MeterName).AddMeter([.. PlatformMeters]).AddPrometheusExporter();
                if (otlp.Push)
                {
                    metrics.AddOtlpExporter(otlp.ApplyMetricsSignalsOwn);
                }
            });
        return builder;
    }

    /// <summary><c>GET /metrics</c>, unauthenticated (DESIGN §4): bind or filter it in production.</summary>
    public static IEndpointRouteBuilder MapRoomMetrics(this IEndpointRouteBuilder app)
    {
        // The exporter maps every method; another is a 405 with Allow, as on every other route (§5).
        app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        return app;
    }
}
