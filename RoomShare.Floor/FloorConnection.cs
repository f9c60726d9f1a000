using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace RoomShare.Floor;

/// <summary>
/// One client WebSocket: a read loop that answers the handshake and dispatches Join and SetChoice,
/// and a write loop that sends queued frames in order. Pings and anything else are ignored.
/// </summary>
public sealed class FloorConnection(WebSocket socket, string memberId, FloorRooms rooms)
{
    private const byte RecordSeparator = 0x1e;
    private const int InvocationType = 1;
    private const int CloseType = 7;

    private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<FloorRoom> _joined = [];

    public void Enqueue(byte[] frame) => _outbox.Writer.TryWrite(frame);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var writer = WriteLoopAsync(cancellationToken);
        try
        {
            await ReadLoopAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away; nothing to tell anyone.
        }
        finally
        {
            foreach (var room in _joined)
            {
                room.Leave(this);
            }

            _outbox.Writer.TryComplete();
            await writer;
        }
    }

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var filled = 0;
        var handshakeDone = false;
        while (socket.State == WebSocketState.Open)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var received = await socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            filled += received.Count;
            var start = 0;
            int end;
            while ((end = Array.IndexOf(buffer, RecordSeparator, start, filled - start)) >= 0)
            {
                var record = buffer.AsMemory(start, end - start);
                start = end + 1;
                if (!handshakeDone)
                {
                    handshakeDone = true;
                    Enqueue(FloorFrames.HandshakeOk);
                }
                else if (!Dispatch(record))
                {
                    return;
                }
            }

            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
        }
    }

    /// <summary>Handles one hub message; false when the client asked to close.</summary>
    private bool Dispatch(ReadOnlyMemory<byte> record)
    {
        using var message = JsonDocument.Parse(record);
        var root = message.RootElement;
        var type = root.GetProperty("type").GetInt32();
        if (type == CloseType)
        {
            return false;
        }

        if (type != InvocationType || !root.TryGetProperty("invocationId", out var id))
        {
            return true; // pings, and invocations that want no answer
        }

        var invocationId = id.GetString() ?? string.Empty;
        var arguments = root.GetProperty("arguments");
        var room = rooms.Find(arguments[0].GetString() ?? string.Empty);
        if (room is null)
        {
            Enqueue(FloorFrames.Error(invocationId, "room_not_found: no such room"));
            return true;
        }

        switch (root.GetProperty("target").GetString())
        {
            case "Join":
                var version = room.Join(this);
                if (!_joined.Contains(room))
                {
                    _joined.Add(room);
                }

                Enqueue(FloorFrames.JoinResult(invocationId, room.Epoch, version));
                break;
            case "SetChoice":
                var opId = arguments[3].ValueKind == JsonValueKind.String ? arguments[3].GetString() : null;
                room.SetChoice(this, invocationId, memberId, arguments[1].GetString() ?? string.Empty, arguments[2].GetInt32(), opId);
                break;
            default:
                Enqueue(FloorFrames.Error(invocationId, "invalid_argument: the floor knows Join and SetChoice only"));
                break;
        }

        return true;
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in _outbox.Reader.ReadAllAsync(cancellationToken))
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The connection is gone; the read loop ends too.
        }
    }
}
