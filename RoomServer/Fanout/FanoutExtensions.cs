using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Fanout;

public static class FanoutExtensions
{
    /// <summary>
    /// The room fan-out: the membership (who is in which room here, and the room channel
    /// subscriptions), the ticker (positions and presence leases) and the eviction of removed members.
    /// The storage mode registers the backplane and the hub lifetime manager that feeds the membership.
    /// </summary>
    public static IServiceCollection AddRoomFanout(this IServiceCollection services)
    {
        services.AddSingleton<RoomMembership>();
        services.AddSingleton<RoomTicker>();
        services.AddHostedService(sp => sp.GetRequiredService<RoomTicker>());
        services.AddSingleton<RemovedMemberEviction>();
        services.AddHostedService(sp => sp.GetRequiredService<RemovedMemberEviction>());
        services.AddHostedService<RemovalCatchUp>();
        services.AddSingleton<ReplicaShutdown>();
        services.AddSingleton<ReplicaDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaDrain>());
        services.AddScoped<DrainCountedCall>();
        services.AddOptions<HostOptions>().Configure<IOptions<RoomServerOptions>>((host, room) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(room.Value.DrainSeconds));
        return services;
    }
}
