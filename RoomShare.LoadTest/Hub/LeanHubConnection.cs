using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// A lean SignalR client: WebSockets only, the framework's own <see cref="JsonHubProtocol"/>
/// (or the official MessagePack protocol, see <see cref="LeanHubWire"/>) and <see cref="HandshakeProtocol"/>
/// on a bare <see cref="ClientWebSocket"/>. No reconnect, no per-call
/// tasks for writes, one receive loop that hands every message to an <see cref="IHubListener"/>.
/// It skips negotiate, unless asked to connect as the reference web client does: negotiate with stateful
/// reconnect, then acks for what it received (<see cref="AckAsync"/>), which the server's per-connection
/// replay buffer waits for.
/// The official client costs several times the CPU per message, which on a 2-core box that also runs
/// the servers would become part of what is measured.
/// </summary>
public sealed class LeanHubConnection : IAsyncDisposable
{
    private const int InitialBufferBytes = 4 * 1024;
    private const int MaxMessageBytes = 4 * 1024 * 1024;

    private readonly LeanHubWire _wire;
    private readonly ClientWebSocket _socket;
    private readonly IHubListener _listener;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private TaskCompletionSource<JoinResultWire>? _join;
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _filled;
    private volatile bool _closing;
    private StatefulAcks? _acks;
    private string? _closeError;
    private Task _receiveLoop = Task.CompletedTask;

    private LeanHubConnection(ClientWebSocket socket, LeanHubWire wire, IHubListener listener)
    {
        _socket = socket;
        _wire = wire;
        _listener = listener;
    }

    /// <summary>
    /// Opens <c>{hubUri}?access_token=…</c> (through nginx; with <c>&amp;room=…</c> when
    /// <paramref name="room"/> is given, nginx's routing hint) and completes the handshake for
    /// <paramref name="wire"/>'s protocol. With <paramref name="asWebClient"/> it negotiates first, as the
    /// reference web client does (<see cref="HubNegotiation"/>), and the WebSocket names the negotiated
    /// connection (<c>&amp;id=…</c>); if the server turned stateful reconnect on, the connection owes acks.
    /// </summary>
    public static async Task<LeanHubConnection> ConnectAsync(
        Uri hubUri, LeanHubWire wire, string token, string? room, bool asWebClient, HttpMessageInvoker invoker, IHubListener listener, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // SignalR pings are the keep-alive (ConnectionSweep.Pings)
        var connection = new LeanHubConnection(socket, wire, listener);
        try
        {
            var roomQuery = room is null ? "" : "&room=" + Uri.EscapeDataString(room);
            var idQuery = "";
            if (asWebClient)
            {
                var negotiated = await HubNegotiation.NegotiateAsync(hubUri, token, room, invoker, cancellationToken);
                idQuery = "&id=" + Uri.EscapeDataString(negotiated.ConnectionToken);
                connection._acks = negotiated.StatefulReconnect ? new StatefulAcks() : null;
            }

            await socket.ConnectAsync(new Uri($"{hubUri}?access_token={Uri.EscapeDataString(token)}{roomQuery}{idQuery}"), invoker, cancellationToken);
            await socket.SendAsync(wire.HandshakeFrame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            await connection.ReadHandshakeAsync(cancellationToken);
        }
        catch
        {
            socket.Abort();
            socket.Dispose();
            throw;
        }

        connection._receiveLoop = connection.ReceiveLoopAsync();
        return connection;
    }

    /// <summary><c>Join(roomId, null)</c>; the listener hears <see cref="IHubListener.OnJoined"/> first, on the receive loop.</summary>
    public async Task<JoinResultWire> JoinAsync(string roomId, CancellationToken cancellationToken)
    {
        var join = new TaskCompletionSource<JoinResultWire>(TaskCreationOptions.RunContinuationsAsynchronously);
        _join = join;
        await SendAsync(new InvocationMessage(InvocationIds.Join, "Join", [roomId, null]));
        return await join.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// <c>SetChoice(roomId, menuId, quantity, opId)</c> with the change id as both invocation id and opId;
    /// the outcome arrives through <see cref="IHubListener.OnChangeCompleted"/>.
    /// </summary>
    public ValueTask SendChoiceAsync(string changeId, string roomId, string menuId, int quantity) =>
        SendAsync(new InvocationMessage(changeId, "SetChoice", [roomId, menuId, quantity, changeId]));

    public ValueTask PingAsync() => SendFrameAsync(_wire.PingFrame);

    /// <summary>Whether the server keeps this connection's messages for a stateful reconnect, so it owes acks.</summary>
    public bool StatefulReconnect => _acks is not null;

    /// <summary>The last sequence id this connection acked (0: none yet).</summary>
    public long AckedThrough => _acks?.AckedThrough ?? 0;

    /// <summary>The acks the server sent this connection, for the calls it received (stateful reconnect only).</summary>
    public long ServerAcks => _acks?.ServerAcks ?? 0;

    /// <summary>
    /// Acks every invocation message received so far, if any came since the last ack (SignalR's stateful
    /// reconnect: the server keeps each one until acked, and stops writing to the connection once it keeps
    /// its buffer's worth: RoomServer's 8 MiB, SignalR's default 100 KB).
    /// </summary>
    public ValueTask AckAsync() =>
        _acks is not null && _acks.TryTakeDue(out var through) ? SendAsync(new AckMessage(through)) : ValueTask.CompletedTask;

    /// <summary>Closes politely (WebSocket close handshake) within <paramref name="timeout"/>, then aborts.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _closing = true;
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
            await _receiveLoop.WaitAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Not closed in time or already gone: abort below.
        }

        _socket.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync(TimeSpan.FromSeconds(2));
        _socket.Dispose();
        _sendLock.Dispose();
    }

    private ValueTask SendAsync(HubMessage message) => SendFrameAsync(_wire.Protocol.GetMessageBytes(message));

    private async ValueTask SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        // ClientWebSocket allows one send at a time; the writer, the ping and ack sweeps and Join share it.
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, _wire.Frames, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadHandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!await ReadAsync(cancellationToken))
            {
                throw new WebSocketException("the server closed the connection during the handshake");
            }

            var data = new ReadOnlySequence<byte>(_buffer, 0, _filled);
            if (HandshakeProtocol.TryParseResponseMessage(ref data, out var response))
            {
                Consume(_filled - (int)data.Length);
                if (response.Error is not null)
                {
                    throw new WebSocketException($"handshake refused: {response.Error}");
                }

                return;
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var reason = "closed by the server";
        try
        {
            Dispatch(Stopwatch.GetTimestamp()); // anything that came with the handshake response
            while (await ReadAsync(CancellationToken.None))
            {
                if (!Dispatch(Stopwatch.GetTimestamp()))
                {
                    break;
                }
            }

            if (_closeError is not null)
            {
                reason = "closed by the server: " + _closeError;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or InvalidDataException)
        {
            reason = ex.Message;
        }

        _join?.TrySetException(new WebSocketException($"connection ended before Join completed: {reason}"));
        if (!_closing)
        {
            _listener.OnClosed(reason);
        }
    }

    /// <summary>Reads more bytes into the buffer; false on a close frame.</summary>
    private async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (_filled == _buffer.Length)
        {
            if (_buffer.Length >= MaxMessageBytes)
            {
                throw new InvalidDataException($"a hub message exceeded {MaxMessageBytes} bytes");
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var result = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), cancellationToken);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            return false;
        }

        _filled += result.Count;
        return true;
    }

    /// <summary>Hands every complete message in the buffer to the listener; false after a Close message.</summary>
    private bool Dispatch(long receivedAt)
    {
        var data = new ReadOnlySequence<byte>(_buffer, 0, _filled);
        var open = true;
        while (open && _wire.Protocol.TryParseMessage(ref data, LeanHubBinder.Instance, out var message))
        {
            open = Handle(message, receivedAt);
        }

        Consume(_filled - (int)data.Length);
        return open;
    }

    private bool Handle(HubMessage message, long receivedAt)
    {
        _acks?.OnReceived(message);
        switch (message)
        {
            case InvocationMessage { Arguments: [RoomEventWire roomEvent] }:
                _listener.OnRoomEvent(roomEvent, receivedAt);
                return true;
            case CompletionMessage { InvocationId: InvocationIds.Join } join:
                if (join.Error is null && join.Result is JoinResultWire result)
                {
                    _listener.OnJoined(result);
                    _join?.TrySetResult(result);
                }
                else
                {
                    _join?.TrySetException(new WebSocketException($"Join failed: {join.Error ?? "no result"}"));
                }

                return true;
            case CompletionMessage { InvocationId: { } id } completion when InvocationIds.IsChange(id):
                _listener.OnChangeCompleted(id, completion.Error, receivedAt);
                return true;
            case CloseMessage close:
                _closeError = close.Error ?? "a close message without an error";
                return false;
            default:
                return true; // pings, Position, Presence, anything else
        }
    }

    private void Consume(int count)
    {
        if (count > 0)
        {
            Buffer.BlockCopy(_buffer, count, _buffer, 0, _filled - count);
            _filled -= count;
        }
    }
}
