using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
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
    private const char RecordSeparator = '\u001e';
    private readonly ClientWebSocket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly StringBuilder _unparsed = new();
    private readonly TaskCompletionSource<JsonElement> _closeMessage = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _socketClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _reading = Task.CompletedTask;
    private long _bytesRead;

    private UnackingMember(ClientWebSocket socket) => _socket = socket;

    /// <summary>The server's close message (SignalR type 7), once it arrives.</summary>
    public Task<JsonElement> CloseMessage => _closeMessage.Task;

    /// <summary>Completes when the WebSocket ends, however it ends.</summary>
    public Task SocketClosed => _socketClosed.Task;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

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
            await member.SendAsync("""{"protocol":"json","version":2}""", cts.Token);
            (await member.ReceiveRecordAsync(cts.Token)).Should().Be("{}", "the SignalR handshake succeeds");
            var join = JsonSerializer.Serialize(new { type = 1, invocationId = "1", target = "Join", arguments = new object?[] { roomId, null } });
            await member.SendAsync(join, cts.Token);

            // Bounded by the timeout: skip events and presence until the Join completion.
            while (true)
            {
                using var message = JsonDocument.Parse(await member.ReceiveRecordAsync(cts.Token));
                var root = message.RootElement;
                if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == "1")
                {
                    root.TryGetProperty("error", out var error).Should().BeFalse($"the member's Join failed: {error}");
                    break;
                }
            }

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
    public Task PingAsync(CancellationToken cancellationToken) => SendAsync("""{"type":6}""", cancellationToken);

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
                using var message = JsonDocument.Parse(await ReceiveRecordAsync(_stopping.Token));
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

    private Task SendAsync(string json, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, cancellationToken);

    private async Task<string> ReceiveRecordAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];

        // Bounded by the caller's token: each pass reads one frame part or throws.
        while (true)
        {
            var text = _unparsed.ToString();
            var end = text.IndexOf(RecordSeparator, StringComparison.Ordinal);
            if (end >= 0)
            {
                _unparsed.Remove(0, end + 1);
                return text[..end];
            }

            var result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the server closed the WebSocket: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            }

            Interlocked.Add(ref _bytesRead, result.Count);
            _unparsed.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}
