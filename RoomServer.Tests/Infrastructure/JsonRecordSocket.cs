using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// One SignalR JSON-protocol WebSocket, written and read a record at a time (each ends with U+001E), for the raw members
/// that misbehave on purpose (<see cref="Cluster.SlowMember"/>, <see cref="UnackingMember"/>): the official client and
/// <see cref="HubTestClient"/> always read and acknowledge.
/// </summary>
public sealed class JsonRecordSocket(ClientWebSocket socket)
{
    private const char RecordSeparator = '\u001e';
    private readonly StringBuilder _unparsed = new();
    private long _bytesRead;

    /// <summary>Bytes taken off the socket so far.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public Task SendAsync(string json, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>The SignalR handshake at this protocol version, then <c>Join(roomId, null)</c>; returns once the Join is answered.</summary>
    public async Task HandshakeAndJoinAsync(int protocolVersion, string roomId, CancellationToken cancellationToken)
    {
        await SendAsync(string.Create(CultureInfo.InvariantCulture, $$"""{"protocol":"json","version":{{protocolVersion}}}"""), cancellationToken);
        (await ReceiveAsync(cancellationToken)).Should().Be("{}", "the SignalR handshake succeeds");
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = "1", target = "Join", arguments = new object?[] { roomId, null } }), cancellationToken);

        // Bounded by the caller's token: skip events and presence until the Join completion.
        while (true)
        {
            using var message = JsonDocument.Parse(await ReceiveAsync(cancellationToken));
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == "1")
            {
                root.TryGetProperty("error", out var error).Should().BeFalse($"the raw member's Join failed: {error}");
                return;
            }
        }
    }

    /// <summary>The next record; throws once the server closes the WebSocket.</summary>
    public async Task<string> ReceiveAsync(CancellationToken cancellationToken)
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

            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException(
                    string.Create(CultureInfo.InvariantCulture, $"The server closed the WebSocket: {socket.CloseStatus} {socket.CloseStatusDescription}"));
            }

            Interlocked.Add(ref _bytesRead, result.Count);
            _unparsed.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}
