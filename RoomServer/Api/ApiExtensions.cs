using Microsoft.AspNetCore.Http.Json;

namespace RoomShare.RoomServer.Api;

public static class ApiExtensions
{
    /// <summary>Problem details, the error translation, OpenAPI, and strict body binding.</summary>
    public static WebApplicationBuilder AddRoomApi(this WebApplicationBuilder builder)
    {
        builder.AddCodeToProblems();
        builder.AddApiRateLimits();
        builder.Services.AddExceptionHandler<RoomExceptionHandler>();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<RoomCreator>();

        // Bind failures throw (and become invalid_argument problems) in every environment, not just Development.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.AllowTrailingCommas = false);

        // The API's bodies are small; a larger one is refused before it is read (payload_too_large).
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 256 * 1024);
        return builder;
    }
}
