using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// In Development, once listening, prints where to go and the (generated) API key to the console —
/// never to the log, and never in other environments.
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
        var mode = string.IsNullOrWhiteSpace(configuration.GetConnectionString("Redis")) ? "embedded (in memory)" : "scaled (Redis)";
        var apiKey = options.Value.ApiKeys.FirstOrDefault() ?? "";
        Console.WriteLine($"""

            RoomShare is running in Development, {mode} mode, replica '{options.Value.ReplicaId}'.
              Web client and demo:  {address}/demo.html  (start a demo room, open the member links)
              API key (this run):   {apiKey}
              Create a room:        curl -s -X POST {address}/api/rooms -H 'X-Api-Key: {apiKey}' -H 'Content-Type: application/json' \
                                      -d '{"{"}"name":"Table 7","menu":[{"{"}"id":"pizza","name":"Margherita","priceMinor":1150{"}"}]{"}"}'
              OpenAPI:              {address}/openapi/v1.json

            """);
    }
}
