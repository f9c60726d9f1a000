using System.Globalization;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// A webhook the server cannot sign for or cannot reach by its URL refuses start-up, naming the
/// setting to fix — rather than a replica that runs and dead-letters every order. The setting is named
/// by the number the operator gave the endpoint (from <paramref name="configuration"/>): the list binds
/// the endpoints in order whatever their numbers, so with <c>__1__</c> removed, <c>__2__</c> is its item 1.
/// </summary>
public sealed class WebhookOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<RoomServerOptions>
{
    /// <summary>Shorter HMAC keys are guessable; 16 characters matches the API key rule.</summary>
    public const int MinSecretLength = 16;

    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var webhooks = options.Webhooks;
        var failures = new List<string>();
        var numbers = configuration?.GetSection($"{RoomServerOptions.SectionName}:Webhooks:Endpoints").GetChildren().Select(c => c.Key).ToList() ?? [];
        for (var i = 0; i < webhooks.Endpoints.Count; i++)
        {
            var endpoint = webhooks.Endpoints[i];
            var number = numbers.Count == webhooks.Endpoints.Count ? numbers[i] : i.ToString(CultureInfo.InvariantCulture);
            var setting = $"RoomServer__Webhooks__Endpoints__{number}__";
            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"RoomServer:Webhooks:Endpoints:{number}:Url must be an absolute http or https URL (set {setting}Url).");
            }

            if (string.IsNullOrEmpty(endpoint.Secret) || endpoint.Secret.Length < MinSecretLength)
            {
                failures.Add($"RoomServer:Webhooks:Endpoints:{number}:Secret is missing or shorter than {MinSecretLength} characters (set {setting}Secret).");
            }
        }

        if (webhooks.Endpoints.Select(e => e.Url).Distinct(StringComparer.Ordinal).Count() != webhooks.Endpoints.Count)
        {
            failures.Add("RoomServer:Webhooks:Endpoints must not name one URL twice (the URL identifies an endpoint's delivery status).");
        }

        Require(failures, "TimeoutSeconds", webhooks.TimeoutSeconds, 1, 600);
        Require(failures, "MaxAttempts", webhooks.MaxAttempts, 1, 100);
        Require(failures, "RetryBaseDelayMilliseconds", webhooks.RetryBaseDelayMilliseconds, 1, 3_600_000);
        Require(failures, "RetryMaxDelayMilliseconds", webhooks.RetryMaxDelayMilliseconds, webhooks.RetryBaseDelayMilliseconds, 86_400_000);
        Require(failures, "MaxConcurrentRequests", webhooks.MaxConcurrentRequests, 1, 1000);
        Require(failures, "ClaimTimeoutSeconds", webhooks.ClaimTimeoutSeconds, 1, 3600);
        Require(failures, "PollIntervalMilliseconds", webhooks.PollIntervalMilliseconds, 10, 60_000);
        Require(failures, "SweepIntervalSeconds", webhooks.SweepIntervalSeconds, 1, 86_400);

        // At least 1: the newest settled record is the operator's proof of the last hand-off. At most the audit trail's
        // default length: every record carries a whole order, KBs each, against an event's few hundred bytes.
        Require(failures, "SettledRecordsKept", webhooks.SettledRecordsKept, 1, 10_000);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Require(List<string> failures, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"RoomServer:Webhooks:{setting} must be between {min} and {max} (set RoomServer__Webhooks__{setting}).");
        }
    }
}
