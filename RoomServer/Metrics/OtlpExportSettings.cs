using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace RoomShare.RoomServer.Metrics;

/// <summary>
/// The standard OTLP variables RoomShare documents (DESIGN §6), read only to check them at start: the
/// exporter itself reads them again. Its own handling of a bad value is a warning on an EventSource nobody
/// listens to, and metrics that silently go nowhere.
/// </summary>
public sealed class OtlpExportSettings
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";

    // The metrics signal's own, which the exporter prefers to the general ones.
    public const string MetricsEndpointSetting = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    public const string MetricsProtocolSetting = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";

    public string? Endpoint { get; set; }

    public string? Protocol { get; set; }

    public string? MetricsEndpoint { get; set; }

    public string? MetricsProtocol { get; set; }

    /// <summary>True when either endpoint is set: metrics are pushed there as well as served on /metrics.</summary>
    public bool Push => IsSet(Endpoint) || IsSet(MetricsEndpoint);

    internal static bool IsSet(string? value) => !string.IsNullOrWhiteSpace(value);

    /// <summary>
    /// The metrics signal's own endpoint and protocol over the general ones, as the OTLP specification says. The exporter's
    /// <c>AddOtlpExporter</c> reads only the general variables (its signal-specific ones are <c>UseOtlpExporter</c>'s, which
    /// would push logs and traces too). The endpoint is used as given, the signal's path included.
    /// </summary>
    public void ApplyMetricsSignalsOwn(OtlpExporterOptions exporter)
    {
        if (IsSet(MetricsEndpoint) && Uri.TryCreate(MetricsEndpoint!.Trim(), UriKind.Absolute, out var endpoint))
        {
            exporter.Endpoint = endpoint;
        }

        if (IsSet(MetricsProtocol))
        {
            exporter.Protocol = MetricsProtocol!.Trim() == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        }
    }
}

/// <summary>
/// A set endpoint must be an absolute http(s) URL, and a set protocol one the .NET exporter speaks; anything
/// else refuses the start naming the variable, as every other setting does.
/// </summary>
public sealed class OtlpExportSettingsValidator : IValidateOptions<OtlpExportSettings>
{
    private static readonly string[] Protocols = ["grpc", "http/protobuf"];

    public ValidateOptionsResult Validate(string? name, OtlpExportSettings settings)
    {
        var failures = new List<string>();
        CheckEndpoint(failures, OtlpExportSettings.EndpointSetting, settings.Endpoint);
        CheckEndpoint(failures, OtlpExportSettings.MetricsEndpointSetting, settings.MetricsEndpoint);
        CheckProtocol(failures, OtlpExportSettings.ProtocolSetting, settings.Protocol);
        CheckProtocol(failures, OtlpExportSettings.MetricsProtocolSetting, settings.MetricsProtocol);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckEndpoint(List<string> failures, string variable, string? value)
    {
        if (OtlpExportSettings.IsSet(value) && !IsHttpUrl(value!))
        {
            failures.Add($"{variable} must be an absolute http:// or https:// URL of an OTLP collector, e.g. http://otel-collector:4317.");
        }
    }

    private static void CheckProtocol(List<string> failures, string variable, string? value)
    {
        if (OtlpExportSettings.IsSet(value) && !Protocols.Contains(value!.Trim()))
        {
            failures.Add($"{variable} must be {string.Join(" or ", Protocols)}.");
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host.Length > 0;
}
