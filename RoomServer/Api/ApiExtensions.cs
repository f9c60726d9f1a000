using Microsoft.AspNetCore.Http.Json;
using RoomShare.RoomServer.Configuration;

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
        builder.Services.AddSingleton<RoomDeleter>();

        // Bind failures throw (and become invalid_argument problems) in every environment, not just Development.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // Bodies are read as written (the web defaults are lenient): a number sent as a string, a field
        // the request does not have (a misspelt "rol" would silently issue a member token), a name in
        // another case, or one given twice (which one wins?) is invalid_argument, not a guess.
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.AllowTrailingCommas = false;
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.PropertyNameCaseInsensitive = false;
            o.SerializerOptions.AllowDuplicateProperties = false;
        });

        // The API's bodies are small; a larger one is refused before it is read (payload_too_large).
        // nginx's client_max_body_size (nginx/roomshare-locations.conf) is the same: change both.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = LimitOptions.MaxRequestBodyBytes);
        return builder;
    }
}
