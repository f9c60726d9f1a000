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

    /// <summary>The client name SignalR's backplane links carry on every node (<c>CLIENT LIST</c>), one per replica.</summary>
    public static string SignalRClientName(string replicaId) => replicaId + "-signalr";

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

        services.AddSingleton<SignalRChannelWaits>();
        services.AddSingleton<SignalRBackplaneConnector>();
        services.AddHostedService<SignalRReplicaLinkSweep>();
        services.AddSignalR().AddStackExchangeRedis(connectionString);
        services.AddOptions<SignalRRedisOptions>().Configure<IOptions<RoomServerOptions>, SignalRBackplaneConnector>((redis, room, connector) =>
        {
            redis.Configuration.ChannelPrefix = RedisChannel.Literal(SignalRChannelPrefix);
            redis.Configuration.AbortOnConnectFail = false;
            redis.Configuration.ClientName = SignalRClientName(room.Value.ReplicaId);
            redis.Configuration.AllowAdmin = true; // CLIENT LIST and CLIENT KILL of its own links (ReplicaNodeLinks); SignalR sends no admin command
            redis.Configuration.Protocol = RedisProtocol.Resp2;
            redis.Configuration.AsyncTimeout = room.Value.StoreTimeoutMilliseconds;
            redis.ConnectionFactory = log => connector.ConnectAsync(redis.Configuration, log);
        });
        services.AddSingleton(typeof(RedisHubLifetimeManager<>));
        services.RemoveAll(typeof(HubLifetimeManager<>));
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RedisRoomHubLifetimeManager<>));
        return services;
    }
}

/// <summary>The room composite over SignalR's Redis backplane.</summary>
public sealed class RedisRoomHubLifetimeManager<THub>(RedisHubLifetimeManager<THub> cluster, RoomMembership membership, HeldConnections held)
    : RoomHubLifetimeManager<THub>(cluster, membership, held)
    where THub : Hub;
