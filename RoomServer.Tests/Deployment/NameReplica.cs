using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>A stand-in replica: every HTTP request answers its name; a WebSocket receives its name once.</summary>
internal sealed class NameReplica : IAsyncDisposable
{
    private readonly WebApplication app;
    private int requests;
    private int disposed;

    private NameReplica(string name, WebApplication app, Uri baseUrl)
    {
        Name = name;
        this.app = app;
        BaseUrl = baseUrl;
    }

    public string Name { get; }

    public Uri BaseUrl { get; }

    public int Requests => Volatile.Read(ref requests);

    public static async Task<NameReplica> StartAsync(string name)
    {
        var baseUrl = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(baseUrl.ToString());
        var app = builder.Build();
        NameReplica? replica = null;
        app.UseWebSockets();
        app.Run(async context =>
        {
            Interlocked.Increment(ref replica!.requests);
            if (context.WebSockets.IsWebSocketRequest)
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await socket.SendAsync(Encoding.UTF8.GetBytes(name), WebSocketMessageType.Text, true, context.RequestAborted);
                var buffer = new byte[16];
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                }

                return;
            }

            await context.Response.WriteAsync(name, context.RequestAborted);
        });
        replica = new NameReplica(name, app, baseUrl);
        await app.StartAsync();
        return replica;
    }

    /// <summary>The name the replica a WebSocket reached sends it first.</summary>
    public static async Task<string> ReceiveNameAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
