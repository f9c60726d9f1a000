using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Redis;

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
        builder.Services.AddSingleton<IValidateOptions<RoomServerOptions>, NestedOptionsValidator>();
        // In every mode: a malformed Redis setting is refused even where no Redis is configured, and so is
        // any Redis setting without the connection string that would make the replica use it.
        builder.Services.AddSingleton<IValidateOptions<RoomServerOptions>, RedisOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<RoomServerOptions>, ShardedPubSubSettingValidator>();
        builder.Services.AddSingleton<IValidateOptions<RoomServerOptions>, RedisSettingsWithoutRedisValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReplicaExit>();
        builder.Services.AddHostedService<StartupLog>();
        builder.Services.AddHostedService<StartupBanner>();
        return builder;
    }

    /// <summary>
    /// Chooses the storage mode: embedded (default) or, when <c>ConnectionStrings:Redis</c> is set,
    /// Redis. Each mode registers its own services.
    /// </summary>
    public static WebApplicationBuilder AddRoomStorage(this WebApplicationBuilder builder)
    {
        var redis = StorageMode.RedisConnectionString(builder.Configuration);
        if (redis is null)
        {
            builder.Services.AddEmbeddedRooms();
        }
        else
        {
            builder.Services.AddRedisRooms(redis);
        }

        return builder;
    }
}
