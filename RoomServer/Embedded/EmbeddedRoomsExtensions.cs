using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Embedded;

public static class EmbeddedRoomsExtensions
{
    /// <summary>
    /// Embedded mode: rooms in memory, fanned out in process, and SignalR's default in-process
    /// lifetime manager behind the room composite. One replica, nothing to install.
    /// </summary>
    public static IServiceCollection AddEmbeddedRooms(this IServiceCollection services)
    {
        services.AddSingleton<InProcessBackplane>();
        services.AddSingleton<IRoomBackplane>(sp => sp.GetRequiredService<InProcessBackplane>());
        services.AddSingleton<IMemberRemovalBroadcast, InProcessMemberRemovalBroadcast>();
        services.AddSingleton<IRoomStore, InMemoryRoomStore>();
        services.AddSingleton<IRoomsPerApiKey, InMemoryRoomsPerApiKey>();
        services.AddSingleton<IIdempotencyRecords, InMemoryIdempotencyRecords>();
        services.AddSingleton<InMemoryOrderOutbox>();
        services.AddSingleton<IOrderOutbox>(sp => sp.GetRequiredService<InMemoryOrderOutbox>());
        services.AddSingleton(typeof(DefaultHubLifetimeManager<>));
        services.RemoveAll(typeof(HubLifetimeManager<>));
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(EmbeddedRoomHubLifetimeManager<>));
        return services;
    }
}

/// <summary>The room composite over SignalR's in-process default.</summary>
public sealed class EmbeddedRoomHubLifetimeManager<THub>(DefaultHubLifetimeManager<THub> local, RoomMembership membership, HeldConnections held)
    : RoomHubLifetimeManager<THub>(local, membership, held)
    where THub : Hub;
