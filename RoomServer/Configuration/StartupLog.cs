using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Says once, at start-up, which replica this is and in which mode it runs, and warns of settings that work but
/// defeat their purpose (a start-up refusal would be too much for them: tests and demos shorten them on purpose).
/// </summary>
internal sealed partial class StartupLog(IOptions<RoomServerOptions> options, IConfiguration configuration, ILogger<StartupLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var embedded = StorageMode.IsEmbedded(configuration);
        var settings = options.Value;
        Starting(logger, settings.ReplicaId, embedded ? "embedded" : "redis");

        // Embedded mode is one replica whose claims are held in memory: no store call can outlast them, and no other replica takes one over.
        if (!embedded && settings.Webhooks.Endpoints.Count > 0
            && !WebhookOptions.ClaimOutlastsStoreCalls(settings.Webhooks.ClaimTimeoutSeconds, settings.StoreTimeoutMilliseconds))
        {
            ClaimShorterThanStoreCalls(logger, settings.Webhooks.ClaimTimeoutSeconds, settings.StoreTimeoutMilliseconds, WebhookOptions.LeastClaimTimeoutSeconds(settings.StoreTimeoutMilliseconds));
        }

        // A generated key is this process's alone: another replica on the same Redis refuses the tokens this one issues.
        if (!embedded && configuration[DevelopmentSecrets.GeneratedSigningKeyMarker] is not null)
        {
            SigningKeyOfThisProcessOnly(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(4001, LogLevel.Information, "Replica {ReplicaId} starting in {Mode} mode")]
    private static partial void Starting(ILogger logger, string replicaId, string mode);

    [LoggerMessage(4002, LogLevel.Warning, "RoomServer__Webhooks__ClaimTimeoutSeconds is {ClaimTimeoutSeconds} s, under three store deadlines (RoomServer__StoreTimeoutMilliseconds is {StoreTimeoutMilliseconds} ms): the claim and the record's read before its first renewal, and the renewal itself, may each take a whole deadline, so a slow Redis can let an order record's claim lapse while this replica still delivers it, and another replica then sends it again under the same orderId. Set it to {LeastSeconds} or more, or shorten the deadline")]
    private static partial void ClaimShorterThanStoreCalls(ILogger logger, int claimTimeoutSeconds, int storeTimeoutMilliseconds, int leastSeconds);

    [LoggerMessage(4003, LogLevel.Warning, "RoomServer__Jwt__SigningKey is not set, so Development generated one for this process: with Redis, every other replica refuses the tokens this one issues, and this one theirs. Set the same RoomServer__Jwt__SigningKey on every replica to run more than one")]
    private static partial void SigningKeyOfThisProcessOnly(ILogger logger);
}
