using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A member on SignalR's stateful reconnect (negotiated as the web client does, handshake version 2) that reads every
/// frame the server sends but never acknowledges one: as a page whose script is frozen (a phone's screen off) while the
/// browser still takes the socket's data. The server keeps each message until it is acknowledged; this one never is.
/// Raw, because the official client acknowledges on its own.
/// </summary>
public sealed class UnackingMember : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly JsonRecordSocket _records;
    private readonly TaskCompletionSource<JsonElement> _closeMessage = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _socketClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reading = Task.CompletedTask;

    private UnackingMember(ClientWebSocket socket)
    {
        _socket = socket;
        _records = new JsonRecordSocket(socket);
    }

    /// <summary>The server's close message (SignalR type 7), once it arrives.</summary>
    public Task<JsonElement> CloseMessage => _closeMessage.Task;

    /// <summary>Completes when the WebSocket ends, however it ends.</summary>
    public Task SocketClosed => _socketClosed.Task;

    public long BytesRead => _records.BytesRead;

    /// <summary>Negotiates with stateful reconnect, connects, joins the room, and from then on reads without acknowledging.</summary>
    public static async Task<UnackingMember> JoinAsync(Uri baseUrl, string token, string roomId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        string connectionToken;
        using (var http = new HttpClient { BaseAddress = baseUrl })
        {
            using var negotiate = new HttpRequestMessage(HttpMethod.Post, "hubs/room/negotiate?negotiateVersion=1&useStatefulReconnect=true");
            negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(negotiate, cts.Token);
            response.EnsureSuccessStatusCode();
            var negotiated = await response.Content.ReadFromJsonAsync<JsonElement>(cts.Token);
            negotiated.GetProperty("useStatefulReconnect").GetBoolean().Should().BeTrue("the server allows stateful reconnect");
            connectionToken = negotiated.GetProperty("connectionToken").GetString()!;
        }

        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(new Uri(baseUrl, "hubs/room"))
        {
            Scheme = "ws",
            Query = "id=" + Uri.EscapeDataString(connectionToken) + "&access_token=" + Uri.EscapeDataString(token),
        }.Uri;
        await socket.ConnectAsync(uri, cts.Token);
        var member = new UnackingMember(socket);
        try
        {
            await member._records.HandshakeAndJoinAsync(2, roomId, cts.Token);
            member._reading = Task.Run(member.ReadWithoutAckingAsync);
            return member;
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }
    }

    /// <summary>Pings, as a client whose transport keeps the connection alive does; it still acknowledges nothing.</summary>
    public Task PingAsync(CancellationToken cancellationToken) => _records.SendAsync("""{"type":6}""", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Abort();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Takes every frame off the socket (so the server's writes never back up), keeping only the close message.</summary>
    private async Task ReadWithoutAckingAsync()
    {
        try
        {
            // Bounded by the socket: ends when it closes or the member is disposed.
            while (true)
            {
                using var message = JsonDocument.Parse(await _records.ReceiveAsync(_stopping.Token));
                if (message.RootElement.GetProperty("type").GetInt32() == 7)
                {
                    _closeMessage.TrySetResult(message.RootElement.Clone());
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection ended (closed by the server, or by this side on dispose).
        }
        finally
        {
            _socketClosed.TrySetResult();
        }
    }
}
