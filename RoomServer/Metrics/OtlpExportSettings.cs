using Microsoft.Extensions.Options;

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

    public string? Endpoint { get; set; }

    public string? Protocol { get; set; }

    /// <summary>True when an endpoint is set: metrics are pushed there as well as served on /metrics.</summary>
    public bool Push => !string.IsNullOrWhiteSpace(Endpoint);
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
        if (settings.Push && !IsHttpUrl(settings.Endpoint!))
        {
            failures.Add($"{OtlpExportSettings.EndpointSetting} must be an absolute http:// or https:// URL of an OTLP collector, e.g. http://otel-collector:4317.");
        }

        if (!string.IsNullOrWhiteSpace(settings.Protocol) && !Protocols.Contains(settings.Protocol.Trim()))
        {
            failures.Add($"{OtlpExportSettings.ProtocolSetting} must be {string.Join(" or ", Protocols)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host.Length > 0;
}
