using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Auth;

public static class AuthExtensions
{
    /// <summary>API-key and JWT bearer schemes, the three policies, and problem responses for 401/403.</summary>
    public static WebApplicationBuilder AddRoomAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TokenIssuer>();
        ProcessLocalKeyRing.AddProcessLocalKeyRing(builder.Services);
        builder.Services.AddSingleton(sp => new ApiKeyMatcher(sp.GetRequiredService<IOptions<RoomServerOptions>>().Value.ApiKeys));
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        builder.Services
            .AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<RoomServerOptions>, TimeProvider>(ConfigureJwt);

        builder.Services.AddAuthorizationBuilder()
            // Member tokens are read here too, only to be refused as forbidden (ApiKeyCallerRequirement), not unauthorized.
            .AddPolicy(AuthPolicies.ApiKey, p => p
                .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName, JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new ApiKeyCallerRequirement()))
            .AddPolicy(AuthPolicies.Member, p => p.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser())
            .AddPolicy(AuthPolicies.RoomReader, p => p
                .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName, JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(ctx => RoomClaims.IsApiCaller(ctx.User)
                    || (ctx.Resource is HttpContext http && http.GetRouteValue("roomId") is string roomId && RoomClaims.RoomOf(ctx.User) == roomId)));
        return builder;
    }

    private static void ConfigureJwt(JwtBearerOptions jwt, IOptions<RoomServerOptions> options, TimeProvider time)
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

            // No grace past exp (the default skew is 5 minutes); the hub re-checks exp on every call.
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) => TokenLifetime.IsWithinLifetime(notBefore, expires, time.GetUtcNow()),
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

            // The request (for the hub: the connection) keeps only the claims RoomShare reads, not the
            // parsed token (RoomClaims.Retained). Then: a member removed after this token was issued is
            // refused (401) — at the hub's connect and on the HTTP API alike; a token issued after the
            // removal re-admits them. One lookup per request that carries a member token.
            OnTokenValidated = async context =>
            {
                if (context.Principal is { } validated)
                {
                    if (RoomClaims.RepeatedClaim(validated) is { } repeated)
                    {
                        context.Fail($"the token gives its '{repeated}' claim more than one value");
                        return;
                    }

                    context.Principal = RoomClaims.Retained(validated);
                }

                if (context.Principal is not { } user)
                {
                    return;
                }

                var room = user.FindFirst(RoomClaims.RoomId)?.Value;
                var member = user.FindFirst(RoomClaims.MemberId)?.Value;
                if (!RoomIds.IsValidRoomId(room) || !RoomIds.IsValidMemberId(member) || !RoomClaims.IsValidRole(user.FindFirst(RoomClaims.Role)?.Value))
                {
                    // Every hub call of such a token would be refused, and no route reads it: a bad token (401), here, once.
                    context.Fail($"the token lacks a valid sub, room or role ('{RoomClaims.MemberRole}' or '{RoomClaims.OwnerRole}') claim");
                    return;
                }

                if (member == MemberOpBuckets.ApiCaller)
                {
                    // Reserved (the token API refuses it): a token for it from before, or from elsewhere, gets nothing.
                    context.Fail($"the member id '{MemberOpBuckets.ApiCaller}' is reserved for the HTTP API");
                    return;
                }

                var store = context.HttpContext.RequestServices.GetRequiredService<IRoomStore>();
                try
                {
                    if (RoomClaims.RemovalGenerationOf(user) < await store.RemovalGenerationAsync(room, member, context.HttpContext.RequestAborted))
                    {
                        context.Fail("the member was removed from the room after this token was issued");
                    }
                }
                catch (RoomException)
                {
                    // Redis is away. The hub admits: the Join's own check (in its script) still refuses a
                    // removed member. The HTTP API's reads have no such check: they answer unavailable.
                    RemovalCheckGate.MarkUnchecked(context.HttpContext);
                }
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
