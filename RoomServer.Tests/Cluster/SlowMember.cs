using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A member that joins and then stops reading: a raw <see cref="ClientWebSocket"/> over a socket with
/// a tiny receive buffer, so once a few kilobytes are unread the kernel closes the TCP window and
/// the server's writes to it back up. The test kit's client always reads, so this one is raw.
/// </summary>
public sealed class SlowMember : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Socket _tcp;
    private readonly HttpMessageInvoker _invoker;
    private readonly JsonRecordSocket _records;

    private SlowMember(ClientWebSocket socket, Socket tcp, HttpMessageInvoker invoker)
    {
        _socket = socket;
        _tcp = tcp;
        _invoker = invoker;
        _records = new JsonRecordSocket(socket);
    }

    /// <summary>The client end's local port (to find its TCP queues).</summary>
    public int LocalPort => ((System.Net.IPEndPoint)_tcp.LocalEndPoint!).Port;

    /// <summary>Bytes the kernel holds for this socket, unread.</summary>
    public int UnreadBytes => _tcp.Available;

    /// <summary>Connects, completes the SignalR handshake and Join, reads the Join result, then reads nothing more.</summary>
    public static async Task<SlowMember> JoinAsync(Uri baseUrl, string token, string roomId, TimeSpan timeout)
    {
        Socket? tcp = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                // Set before connecting, so the advertised window stays small.
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                tcp = socket;
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(new Uri(baseUrl, "hubs/room")) { Scheme = "ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri;
        using var cts = new CancellationTokenSource(timeout);
        await socket.ConnectAsync(uri, invoker, cts.Token);
        var member = new SlowMember(socket, tcp!, invoker);
        try
        {
            await member._records.HandshakeAndJoinAsync(1, roomId, cts.Token);
            return member;
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts reading again: the versions of the RoomEvents received, until <paramref name="lastVersion"/>.</summary>
    public async Task<List<long>> ReadEventVersionsThroughAsync(long lastVersion, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var versions = new List<long>();

        // Bounded by the timeout.
        while (versions.Count == 0 || versions[^1] < lastVersion)
        {
            using var message = JsonDocument.Parse(await _records.ReceiveAsync(cts.Token));
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() == 1 && root.GetProperty("target").GetString() == "RoomEvent")
            {
                versions.Add(root.GetProperty("arguments")[0].GetProperty("version").GetInt64());
            }
        }

        return versions;
    }

    /// <summary>Sends a SignalR ping, as a client keeping its connection alive does; it still reads nothing.</summary>
    public Task PingAsync(CancellationToken cancellationToken) => _records.SendAsync("""{"type":6}""", cancellationToken);

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        _invoker.Dispose();
        return ValueTask.CompletedTask;
    }
}
