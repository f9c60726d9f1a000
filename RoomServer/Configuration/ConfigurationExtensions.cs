using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>Binds and validates <see cref="RoomServerOptions"/> at start-up (Development generates missing secrets).</summary>
    public static WebApplicationBuilder AddRoomServerOptions(this WebApplicationBuilder builder)
    {
        DevelopmentSecrets.AddGeneratedSecretsIfMissing(builder);
        builder.Services.AddOptions<RoomServerOptions>()
            .BindConfiguration(RoomServerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RoomServerOptions>, RoomServerOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<StartupLog>();
        builder.Services.AddHostedService<StartupBanner>();
        return builder;
    }

    /// <summary>
    /// Embedded mode (default): in-memory store, in-process fan-out. Scaled mode when
    /// <c>ConnectionStrings:Redis</c> is set: Redis store and Redis pub/sub backplane.
    /// </summary>
    public static WebApplicationBuilder AddRoomStorage(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            builder.Services.AddSingleton<InProcessBackplane>();
            builder.Services.AddSingleton<IRoomBackplane>(sp => sp.GetRequiredService<InProcessBackplane>());
            builder.Services.AddSingleton<IRoomStore, InMemoryRoomStore>();
            return builder;
        }

        builder.Services.Configure<RedisConnectionOptions>(o => o.ConnectionString = redis);
        builder.Services.AddSingleton<RedisConnection>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
        builder.Services.AddSingleton<IRoomBackplane, RedisBackplane>();
        builder.Services.AddSingleton<IRoomStore, RedisRoomStore>();
        return builder;
    }
}
