using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Redis;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A started <see cref="RedisConnection"/> outside any host, for tests that drive the Redis layer
/// (backplane, scripts) directly; it owns the service provider its metrics need and disposes both.
/// </summary>
public sealed class StandaloneRedisConnection : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private StandaloneRedisConnection(ServiceProvider services, RedisConnection connection)
    {
        _services = services;
        Connection = connection;
    }

    public RedisConnection Connection { get; }

    public static async Task<StandaloneRedisConnection> StartAsync(string connectionString, string replicaId)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var connection = new RedisConnection(
            Options.Create(new RedisConnectionOptions { ConnectionString = connectionString }),
            Options.Create(new RoomServerOptions { ReplicaId = replicaId }),
            new RoomMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance),
            new ReplicaExit(),
            NullLogger<RedisConnection>.Instance);
        await connection.StartAsync(CancellationToken.None);
        return new StandaloneRedisConnection(services, connection);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _services.DisposeAsync();
    }
}
