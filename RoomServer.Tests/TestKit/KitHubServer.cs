using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RoomShare.RoomServer.Tests.TestKit;

/// <summary>
/// A minimal in-process Kestrel app for the kit's own tests: a real SignalR hub at /hubs/room (401
/// without access_token or a Bearer header, like the real server), and a raw WebSocket endpoint at /raw that writes
/// hand-framed records, to prove the client's framing without depending on how SignalR batches.
/// </summary>
public sealed class KitHubServer : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR();
        var app = builder.Build();
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/hubs/room") && !context.Request.Query.ContainsKey("access_token")
                && !context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        app.MapHub<KitHub>("/hubs/room");
        app.Map("/raw", RawEndpoint);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseUrl = new Uri(address);
        _app = app;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static async Task RawEndpoint(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        await socket.ReceiveAsync(buffer, context.RequestAborted); // the handshake request

        if (context.Request.Query["mode"] == "reject")
        {
            // Then a graceful close, as SignalR does: an abrupt one can reach a client before the error it follows.
            await SendAsync(socket, "{\"error\":\"Requested protocol 'json' is not available.\"}\u001e", context.RequestAborted);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
            return;
        }

        // Handshake response and two whole records in one frame, then a record split across two frames.
        await SendAsync(
            socket,
            "{}\u001e{\"type\":1,\"target\":\"RoomEvent\",\"arguments\":[{\"v\":1}]}\u001e{\"type\":1,\"target\":\"RoomEvent\",\"arguments\":[{\"v\":2}]}\u001e{\"type\":1,\"target\":\"RoomEv",
            context.RequestAborted);
        await SendAsync(socket, "ent\",\"arguments\":[{\"v\":3}]}\u001e{\"type\":6}\u001e", context.RequestAborted);
        await SendAsync(
            socket,
            "{\"type\":1,\"target\":\"Pair\",\"arguments\":[\"a\",2]}\u001e{\"type\":1,\"target\":\"Bare\",\"arguments\":[]}\u001e{\"type\":7,\"error\":\"bye\"}\u001e",
            context.RequestAborted);

        // Wait for the client to close (bounded by the client's dispose).
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
            }
        }
    }

    private static Task SendAsync(WebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
}
