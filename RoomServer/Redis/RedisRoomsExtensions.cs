using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;
using SignalRRedisOptions = Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions;

namespace RoomShare.RoomServer.Redis;

public static class RedisRoomsExtensions
{
    /// <summary>The channel prefix of SignalR's own backplane, apart from the rooms' <c>rs:{id}:events</c>.</summary>
    public const string SignalRChannelPrefix = "rs-signalr";

    /// <summary>
    /// Scaled mode: the Redis room store and room backplane (one multiplexer, <see cref="RedisConnection"/>),
    /// and SignalR's own Redis backplane (its own multiplexer; disposing it unsubscribes everything)
    /// for every other SignalR send, behind the room composite lifetime manager. The same connection
    /// string may name the nodes of a Redis Cluster: room channels are then sharded (RedisTopology),
    /// and so are SignalR's backplane's (its messages are rare: announcements, removals, sends to one
    /// connection or user; <see cref="ShardedChannels"/>).
    /// </summary>
    public static IServiceCollection AddRedisRooms(this IServiceCollection services, string connectionString)
    {
        services.AddOptions<RedisConnectionOptions>().Configure(o => o.ConnectionString = connectionString).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedisConnectionOptions>, RedisConnectionStringValidator>();
        services.AddSingleton<RedisConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
        services.AddSingleton<RedisBackplane>();
        services.AddSingleton<IRoomBackplane>(sp => sp.GetRequiredService<RedisBackplane>());
        services.AddSingleton<BackplaneHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<BackplaneHeartbeat>());
        services.AddSingleton<ReplicaIdGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaIdGuard>());
        services.AddSingleton<IOrderClaimPermit>(sp => sp.GetRequiredService<ReplicaIdGuard>());
        services.AddSingleton<RedisMemberRemovalBroadcast>();
        services.AddSingleton<IMemberRemovalBroadcast>(sp => sp.GetRequiredService<RedisMemberRemovalBroadcast>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisMemberRemovalBroadcast>());
        services.AddSingleton<IRoomStore, RedisRoomStore>();
        services.AddSingleton<IRoomsPerApiKey, RedisRoomsPerApiKey>();
        services.AddSingleton<IIdempotencyRecords, RedisIdempotencyRecords>();
        services.AddSingleton<IOrderOutbox, RedisOrderOutbox>();
        services.AddSingleton<FailoverEpochs>();

        services.AddSignalR().AddStackExchangeRedis(connectionString);
        services.AddOptions<SignalRRedisOptions>().Configure<IOptions<RoomServerOptions>, RedisConnection, ILoggerFactory>((redis, room, rooms, loggers) =>
        {
            redis.Configuration.ChannelPrefix = RedisChannel.Literal(SignalRChannelPrefix);
            redis.Configuration.AbortOnConnectFail = false;
            redis.Configuration.ClientName = room.Value.ReplicaId + "-signalr";
            redis.Configuration.Protocol = RedisProtocol.Resp2;
            redis.Configuration.AsyncTimeout = room.Value.StoreTimeoutMilliseconds;
            redis.ConnectionFactory = log => ConnectSignalRBackplaneAsync(redis.Configuration, rooms, loggers.CreateLogger<ShardedSubscriber>(), log);
        });
        services.AddSingleton(typeof(RedisHubLifetimeManager<>));
        services.RemoveAll(typeof(HubLifetimeManager<>));
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RedisRoomHubLifetimeManager<>));
        return services;
    }

    /// <summary>How long SignalR's backplane waits at start for the rooms' connection to reach a node and learn the topology.</summary>
    private static readonly TimeSpan BackplaneTopologyWait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Set once the first connect has waited: SignalR runs a later one under a lock each connect and send queue behind,
    /// so while no node is reachable those fail at once rather than each waiting in turn.
    /// </summary>
    private static int _backplaneWaitedForTopology;

    /// <summary>
    /// SignalR's multiplexer, its channels sharded where the rooms' are. Decided by the rooms' own topology, so that
    /// every replica publishes and subscribes each channel alike. SignalR connects as its hub is mapped, before the
    /// rooms' connection starts: the first connect waits for the topology (<see cref="BackplaneTopologyWait"/>); with no
    /// node reached by then it fails, and SignalR tries again at its next connect or send, which fails at once until a
    /// node is reached — nothing of the backplane works without Redis anyway.
    /// </summary>
    private static async Task<IConnectionMultiplexer> ConnectSignalRBackplaneAsync(ConfigurationOptions configuration, RedisConnection rooms, ILogger logger, TextWriter log)
    {
        var wait = Interlocked.Exchange(ref _backplaneWaitedForTopology, 1) == 0 ? BackplaneTopologyWait : TimeSpan.Zero;
        var sharded = (await rooms.TopologyWhenKnownAsync(wait)).ShardedPubSub;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration, log);
        return sharded ? ShardedBackplaneMultiplexer.Wrap(multiplexer, logger) : multiplexer;
    }
}

/// <summary>The room composite over SignalR's Redis backplane.</summary>
public sealed class RedisRoomHubLifetimeManager<THub>(RedisHubLifetimeManager<THub> cluster, RoomMembership membership, HeldConnections held)
    : RoomHubLifetimeManager<THub>(cluster, membership, held)
    where THub : Hub;
