using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// In Development, once listening, prints where to go and the API key generated for this run to the
/// console — never to the log, never in other environments, and never a key that was configured (a
/// real one, whose console output may end up in a log stream).
/// </summary>
internal sealed class StartupBanner(
    IHostEnvironment environment,
    IHostApplicationLifetime lifetime,
    IServer server,
    IOptions<RoomServerOptions> options,
    IConfiguration configuration) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (environment.IsDevelopment())
        {
            lifetime.ApplicationStarted.Register(Print);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Print()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5000";
        var mode = StorageMode.IsEmbedded(configuration) ? "embedded (in memory)" : "scaled (Redis)";
        var apiKey = ShownApiKey(configuration, options.Value) ?? "<the configured RoomServer__ApiKeys__0 (not printed)>";
        Console.WriteLine($"""

            RoomShare is running in Development, {mode} mode, replica '{options.Value.ReplicaId}'.
              Web client and demo:  {address}/demo.html  (start a demo room, open the member links)
              API key (this run):   {apiKey}
              Create a room:        curl -s -X POST {address}/api/rooms -H 'X-Api-Key: {apiKey}' -H 'Content-Type: application/json' \
                                      -d '{"{"}"name":"Table 7","menu":[{"{"}"id":"pizza","name":"Margherita","priceMinor":1150{"}"}]{"}"}'
              OpenAPI:              {address}/openapi/v1.json

            """);
    }

    /// <summary>The API key the banner may show: only one generated for this run (DevelopmentSecrets).</summary>
    internal static string? ShownApiKey(IConfiguration configuration, RoomServerOptions options) =>
        options.ApiKeys.FirstOrDefault() is { Length: > 0 } key && key == configuration[DevelopmentSecrets.GeneratedApiKeyMarker] ? key : null;
}
