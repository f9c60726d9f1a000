using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A hub connection's HTTP request lasts as long as the connection. A middleware that awaits the rest of the
/// pipeline keeps its async state alive all that time, once per connection: RoomShare's own six and the rate
/// limiter's held about 1 KB of every idle connection (docs/bench/w0-middleware-frames.md). So each (and the connection
/// owner check, added since) passes an admitted hub request on by returning the next one's task, and the hub's
/// endpoints opt out of the rate limiter, which never limits them. Checked by identity: an awaiting middleware returns a task of its own.
/// HubRefusalProblems reads the hub's answer after it, so it stays async and is not here. The real server's
/// services, endpoints and a token it issued; each middleware alone in front of a stand-in for the hub.
/// </summary>
public sealed class HubConnectionMiddlewareTests(EmbeddedContractServer server) : IClassFixture<EmbeddedContractServer>
{
    public static TheoryData<string> PassThroughMiddleware =>
        ["drain gate", "hub origins", "removal check gate", "request charsets", "member connect limits", "connection owner check", "rate limiter"];

    [Theory]
    [MemberData(nameof(PassThroughMiddleware))]
    public async Task AnAdmittedWebSocketIsPassedOnWithoutAFrameOfTheMiddleware(string middleware)
    {
        var app = new ApplicationBuilder(server.Services);
        Use(app, middleware);
        var connection = new TaskCompletionSource(); // the hub's part of the request: open as long as the connection
        app.Run(_ => connection.Task);
        await using var scope = server.Services.CreateAsyncScope();
        var context = await MemberWebSocketAsync(scope.ServiceProvider);

        var passedOn = app.Build()(context);

        passedOn.Should().BeSameAs(connection.Task, $"the {middleware} admits a member's WebSocket and should hand back the hub's task as it is");
        context.Response.StatusCode.Should().Be(StatusCodes.Status200OK, "nothing refused the request");
        connection.SetResult();
    }

    [Fact]
    public async Task AnAuthorizedWebSocketIsPassedOnWithoutAFrameOfTheAuthorizationResultHandler()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var context = await MemberWebSocketAsync(scope.ServiceProvider);
        var policy = (await server.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(AuthPolicies.Member))!;
        var connection = new TaskCompletionSource();

        var passedOn = server.Services.GetRequiredService<IAuthorizationMiddlewareResultHandler>()
            .HandleAsync(_ => connection.Task, context, policy, PolicyAuthorizationResult.Success());

        passedOn.Should().BeSameAs(connection.Task, "an authorized member's WebSocket should go on to the hub's task as it is");
        connection.SetResult();
    }

    [Fact]
    public async Task AForgedTokenIsStillRefusedByTheAuthorizationResultHandler()
    {
        // The pass-through above must not skip the check of every presented credential (DESIGN.md §4). The
        // pipeline itself would call a lone forged token "challenged"; handed a success here, the handler must
        // find the failure itself (end to end, beside a valid key: RoomContractTests.ApiKeyRoutes).
        await using var scope = server.Services.CreateAsyncScope();
        var context = await MemberWebSocketAsync(scope.ServiceProvider, TestTokens.Mint("another-signing-key-of-at-least-32-bytes", "r", "m1", "Ann"));
        var body = new MemoryStream();
        context.Response.Body = body;
        var policy = (await server.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(AuthPolicies.Member))!;
        var reachedHub = false;

        await server.Services.GetRequiredService<IAuthorizationMiddlewareResultHandler>()
            .HandleAsync(_ => { reachedHub = true; return Task.CompletedTask; }, context, policy, PolicyAuthorizationResult.Success());

        reachedHub.Should().BeFalse();
        context.Response.StatusCode.Should().Be(StatusCodes.Status401Unauthorized);
        System.Text.Json.JsonDocument.Parse(body.ToArray()).RootElement.GetProperty("code").GetString().Should().Be(RoomErrorCodes.Unauthorized);
    }

    [Fact]
    public void BothHubEndpointsOptOutOfTheRateLimiter()
    {
        var hub = HubEndpoints().ToList();

        hub.Should().HaveCount(2, "the hub has its negotiate and its connection endpoint");
        hub.Should().OnlyContain(endpoint => endpoint.Metadata.GetMetadata<DisableRateLimitingAttribute>() != null);
    }

    private static void Use(IApplicationBuilder app, string middleware)
    {
        switch (middleware)
        {
            case "drain gate": app.UseDrainGate(); break;
            case "hub origins": app.UseHubOrigins(); break;
            case "removal check gate": app.UseRemovalCheckGate(); break;
            case "request charsets": app.UseKnownRequestCharsets(); break;
            case "member connect limits": app.UseMemberConnectLimits(); break;
            case "connection owner check": app.UseConnectionOwnerCheck(); break;
            case "rate limiter": app.UseRateLimiter(); break;
            default: throw new ArgumentOutOfRangeException(nameof(middleware), middleware, null);
        }
    }

    /// <summary>
    /// A member's WebSocket request to the hub as the middleware sees it: routed, and authenticated by the server's
    /// own scheme. Without <paramref name="forged"/>, a token the server issued for a new room, which must authenticate.
    /// </summary>
    private async Task<HttpContext> MemberWebSocketAsync(IServiceProvider services, string? forged = null)
    {
        var token = forged ?? await server.TokenAsync(await server.CreateRoomAsync(), "ann");
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = HubExtensions.Path;
        context.Request.Headers.Upgrade = "websocket";
        context.Request.Headers.Connection = "Upgrade";
        context.Request.Headers.Authorization = "Bearer " + token;
        context.SetEndpoint(HubEndpoints().Single(endpoint => endpoint.Metadata.GetMetadata<NegotiateMetadata>() is null));
        var authenticated = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (forged is null)
        {
            authenticated.Succeeded.Should().BeTrue(authenticated.Failure?.Message ?? "the server's own token should authenticate");
            context.User = authenticated.Principal!;
        }

        return context;
    }

    private IEnumerable<Endpoint> HubEndpoints() =>
        server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(endpoint => endpoint.Metadata.GetMetadata<HubMetadata>()?.HubType == typeof(RoomHub));
}
