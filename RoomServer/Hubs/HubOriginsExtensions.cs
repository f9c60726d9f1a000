using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

public static class HubOriginsExtensions
{
    public static IServiceCollection AddHubOrigins(this IServiceCollection services)
    {
        services.AddSingleton(sp => new HubOrigins(sp.GetRequiredService<IOptions<RoomServerOptions>>().Value.AllowedOrigins));
        services.AddSingleton<IValidateOptions<RoomServerOptions>, AllowedOriginsValidator>();

        // A listed page on another origin negotiates with a cross-origin fetch (credentials included,
        // custom headers, so preflighted): CORS answers it for listed origins only. Same-origin pages
        // need none, so with no list nothing is ever allowed across origins.
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<HubOrigins>((cors, origins) => cors.AddPolicy(CorsPolicy, policy => policy
            .SetIsOriginAllowed(origins.IsListed)
            .AllowAnyHeader()
            .WithMethods(HttpMethods.Get, HttpMethods.Post)
            .AllowCredentials()));
        return services;
    }

    private const string CorsPolicy = "hub-origins";

    /// <summary>
    /// Answers 403 <c>forbidden</c> to a hub request (negotiate, connect, preflight) from an origin that is
    /// not allowed, and CORS headers to one from a listed origin.
    /// </summary>
    public static IApplicationBuilder UseHubOrigins(this IApplicationBuilder app)
    {
        var origins = app.ApplicationServices.GetRequiredService<HubOrigins>();
        // Not async: see DrainGate.UseDrainGate.
        app.Use((context, next) =>
            context.Request.Path.StartsWithSegments(HubExtensions.Path)
            && !origins.Allows(context.Request.Headers.Origin is { Count: > 0 } origin ? origin.ToString() : null, context.Request.Host.Value ?? "")
                ? ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden, "this page's origin may not open the room hub (RoomServer:AllowedOrigins)")
                : next(context));
        app.UseWhen(context => context.Request.Path.StartsWithSegments(HubExtensions.Path), hub => hub.UseCors(CorsPolicy));
        return app;
    }
}
