using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Orders;
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

    /// <summary>The factory of this connection's meters: a listener tells its measurements from other tests' by it.</summary>
    public System.Diagnostics.Metrics.IMeterFactory MeterFactory => _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();

    /// <summary>Connects as a replica to Redis.</summary>
    /// <param name="connectionString">Redis's endpoint(s).</param>
    /// <param name="replicaId">The replica's id.</param>
    /// <param name="options">The replica's options (its id is set from <paramref name="replicaId"/>); the defaults when null.</param>
    public static async Task<StandaloneRedisConnection> StartAsync(string connectionString, string replicaId, RoomServerOptions? options = null)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        options ??= new RoomServerOptions();
        options.ReplicaId = replicaId;
        var connection = new RedisConnection(
            Options.Create(new RedisConnectionOptions { ConnectionString = connectionString }),
            Options.Create(options),
            new RoomMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance),
            new ReplicaExit(),
            NullLogger<RedisConnection>.Instance);
        await connection.StartAsync(CancellationToken.None);
        return new StandaloneRedisConnection(services, connection);
    }

    /// <summary>Scaled mode's order outbox on this connection, with these options.</summary>
    public RedisOrderOutbox OrderOutbox(IOptions<RoomServerOptions> options, IOrderClaimPermit? permit = null) => new(
        Connection,
        options,
        new WebhookMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
        TimeProvider.System,
        permit ?? new AlwaysMayClaim(),
        NullLogger<RedisOrderOutbox>.Instance);

    /// <summary>
    /// Scaled mode's room store on this connection, with these options. Its heartbeat is never started: it
    /// counts as hearing for three of the options' heartbeat intervals, so give them a long one. It tells
    /// <paramref name="orders"/> of its transitions, if given (as the replica's worker hears them).
    /// </summary>
    public RedisRoomStore RoomStore(IOptions<RoomServerOptions> options, OrderOutboxSignal? orders = null)
    {
        var backplane = new RedisBackplane(Connection, new FailoverEpochs(Connection, options), NullLogger<RedisBackplane>.Instance);
        var heartbeat = new BackplaneHeartbeat(Connection, backplane, options, NullLogger<BackplaneHeartbeat>.Instance);
        return new RedisRoomStore(Connection, heartbeat, new ReplicaIdGuard(Connection, options, NullLogger<ReplicaIdGuard>.Instance), orders ?? new OrderOutboxSignal(), new SignalRChannelWaits(), options, NullLogger<RedisRoomStore>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _services.DisposeAsync();
    }
}
