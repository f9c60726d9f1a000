using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Auth;

public static class AuthExtensions
{
    /// <summary>API-key and JWT bearer schemes, the three policies, and problem responses for 401/403.</summary>
    public static WebApplicationBuilder AddRoomAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        builder.Services
            .AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<RoomServerOptions>>(ConfigureJwt);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.ApiKey, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName).RequireAuthenticatedUser())
            .AddPolicy(AuthPolicies.Member, p => p.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser())
            .AddPolicy(AuthPolicies.RoomReader, p => p
                .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName, JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(ctx => RoomClaims.IsApiCaller(ctx.User)
                    || (ctx.Resource is HttpContext http && http.GetRouteValue("roomId") is string roomId && RoomClaims.RoomOf(ctx.User) == roomId)));
        return builder;
    }

    private static void ConfigureJwt(JwtBearerOptions jwt, IOptions<RoomServerOptions> options)
    {
        var settings = options.Value.Jwt;
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKey = TokenIssuer.SigningKey(settings),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            NameClaimType = RoomClaims.DisplayName,
            RoleClaimType = RoomClaims.Role,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(5),
        };
        jwt.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on a WebSocket: the hub takes the token from the query.
            OnMessageReceived = context =>
            {
                if (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query["access_token"] is { Count: > 0 } token)
                {
                    context.Token = token.ToString();
                }

                return Task.CompletedTask;
            },

            // A failed authentication closes (refuses) the connection; its reason is logged, the token never.
            OnAuthenticationFailed = context =>
            {
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("RoomShare.RoomServer.Auth");
                AuthLog.TokenRejected(logger, context.Request.Path, $"{context.Exception.GetType().Name}: {context.Exception.Message}");
                return Task.CompletedTask;
            },
        };
    }
}
