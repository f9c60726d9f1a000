using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>Says once, at start-up, which replica this is and in which mode it runs.</summary>
internal sealed partial class StartupLog(IOptions<RoomServerOptions> options, IConfiguration configuration, ILogger<StartupLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var mode = StorageMode.IsEmbedded(configuration) ? "embedded" : "redis";
        Starting(logger, options.Value.ReplicaId, mode);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(4001, LogLevel.Information, "Replica {ReplicaId} starting in {Mode} mode")]
    private static partial void Starting(ILogger logger, string replicaId, string mode);
}
