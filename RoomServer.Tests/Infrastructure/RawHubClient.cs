using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A hand-written SignalR client for the tests that must misbehave, which the official client
/// (<see cref="HubTestClient"/>) will not do: send a malformed frame (<see cref="SendRawAsync"/>), or
/// upgrade a raw WebSocket and see exactly how it was refused. WebSockets only, no negotiate, the real
/// <see cref="JsonHubProtocol"/> and <see cref="HandshakeProtocol"/> (so the wire format is the
/// framework's, not ours), every payload surfaced as <see cref="JsonElement"/> and queued per target,
/// whatever the target. A well-behaved client belongs on <see cref="HubTestClient"/>.
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DefaultInvokeTimeout = TimeSpan.FromSeconds(10);

    // Half the server's default 30 s client timeout, as the official clients do.
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);
    private const byte RecordSeparator = 0x1e;

    private readonly ClientWebSocket _socket;
    private readonly JsonHubProtocol _protocol = new();
    private readonly JsonElementBinder _binder = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, (string Method, TaskCompletionSource<JsonElement> Completion)> _pending = new();
    private readonly HubInboxes _inboxes = HubInboxes.ForAnyTarget(() => "open");
    private readonly CancellationTokenSource _stopping = new();
    private byte[] _buffer = new byte[64 * 1024];
    private int _buffered;
    private int _nextInvocationId;
    private Task _receiveLoop = Task.CompletedTask;
    private Task _pingLoop = Task.CompletedTask;

    private RawHubClient(ClientWebSocket socket) => _socket = socket;

    /// <summary>
    /// Completes when the connection ends: with the server's close error (a CloseMessage with an error,
    /// or "connection lost: ..."), or null for a clean close.
    /// </summary>
    public Task<string?> Closed => _inboxes.Closed;

    /// <summary>
    /// Opens <c>ws://host{path}?access_token=...</c> and completes the JSON handshake. A refused upgrade
    /// or a handshake error throws <see cref="HubConnectException"/> (with the HTTP status when there is one).
    /// A null <paramref name="accessToken"/> sends none; <paramref name="configure"/> can add headers or cookies.
    /// </summary>
    public static async Task<RawHubClient> ConnectAsync(
        Uri baseUrl,
        string? accessToken,
        TimeSpan? timeout = null,
        string path = "/hubs/room",
        Action<ClientWebSocketOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var limit = timeout ?? DefaultConnectTimeout;
        var uri = HubUri(baseUrl, path, accessToken);
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // SignalR pings are the keep-alive
        configure?.Invoke(socket.Options);

        using var cts = new CancellationTokenSource(limit);
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            var what = ex is OperationCanceledException ? $"timed out after {limit.TotalSeconds:0.#}s" : ex.Message;
            throw new HubConnectException(
                $"WebSocket upgrade to {RedactToken(uri)} failed: HTTP {(int)status} {status}; {what}",
                status == 0 ? null : status,
                ex);
        }

        var client = new RawHubClient(socket);
        try
        {
            await client.HandshakeAsync(cts.Token);
        }
        catch (Exception ex)
        {
            await client.DisposeAsync();
            if (ex is HubConnectException)
            {
                throw;
            }

            var what = ex is OperationCanceledException ? $"no handshake response within {limit.TotalSeconds:0.#}s" : ex.Message;
            throw new HubConnectException($"SignalR handshake with {RedactToken(uri)} failed: {what}", ex);
        }

        client._receiveLoop = Task.Run(client.ReceiveLoopAsync);
        client._pingLoop = Task.Run(client.PingLoopAsync);
        return client;
    }

    /// <summary>Invokes a hub method and returns its result (JSON null for a method that returns nothing).</summary>
    /// <exception cref="HubErrorException">The server completed the invocation with an error.</exception>
    public Task<JsonElement> InvokeAsync(string method, params object?[] args) =>
        InvokeWithTimeoutAsync(method, DefaultInvokeTimeout, args);

    /// <summary>Invokes and deserializes the result with web (camelCase) defaults.</summary>
    public async Task<T> InvokeAsync<T>(string method, params object?[] args) =>
        HubJson.Deserialize<T>(method, await InvokeAsync(method, args));

    public async Task<JsonElement> InvokeWithTimeoutAsync(string method, TimeSpan timeout, params object?[] args)
    {
        var id = Interlocked.Increment(ref _nextInvocationId).ToString(CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (method, completion);
        try
        {
            if (Closed.IsCompleted)
            {
                throw new InvalidOperationException($"Cannot invoke '{method}': the connection is closed ({Closed.Result ?? "no error"})");
            }

            await SendMessageAsync(new InvocationMessage(id, method, args));
            return await completion.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Hub method '{method}' did not complete within {timeout.TotalSeconds:0.#}s");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Invokes a hub method with its arguments as raw JSON text (the inside of the arguments array, sent
    /// as is): for values no serializer writes, such as an escaped lone surrogate.
    /// </summary>
    /// <exception cref="HubErrorException">The server completed the invocation with an error.</exception>
    public Task<JsonElement> InvokeRawAsync(string method, string rawArguments) =>
        InvokeRawMessageAsync(method, $"{{\"type\":1,\"invocationId\":\"{{id}}\",\"target\":{JsonSerializer.Serialize(method)},\"arguments\":[{rawArguments}]}}");

    /// <summary>
    /// Sends a whole hub message as raw JSON (the record separator is added here), its <c>{id}</c> replaced by a
    /// fresh invocation id, and waits for that invocation's completion: for shapes no client method sends, such
    /// as a streaming invocation or one carrying client streams.
    /// </summary>
    /// <exception cref="HubErrorException">The server completed the invocation with an error.</exception>
    public async Task<JsonElement> InvokeRawMessageAsync(string method, string messageTemplate)
    {
        var id = Interlocked.Increment(ref _nextInvocationId).ToString(CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = (method, completion);
        try
        {
            await SendRawAsync(messageTemplate.Replace("{id}", id, StringComparison.Ordinal) + "\u001e");
            return await completion.Task.WaitAsync(DefaultInvokeTimeout);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends <paramref name="text"/> as one WebSocket text frame, as is (append "\u001e" yourself).</summary>
    public Task SendRawAsync(string text) => SendFrameAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>The next value the server sent to <paramref name="target"/> (its single argument, or a JSON array when it sent 0 or several).</summary>
    public Task<JsonElement> NextAsync(string target, TimeSpan? timeout = null) => _inboxes.NextAsync(target, timeout);

    public bool TryRead(string target, out JsonElement value) => _inboxes.TryRead(target, out value);

    /// <summary>Reads <paramref name="target"/> until a value matches, discarding the others.</summary>
    public Task<JsonElement> WaitForAsync(string target, Func<JsonElement, bool> predicate, TimeSpan? timeout = null) =>
        _inboxes.WaitForAsync(target, predicate, timeout);

    /// <summary>Everything ever received on <paramref name="target"/>, in order (read or not).</summary>
    public IReadOnlyList<JsonElement> Received(string target) => _inboxes.Received(target);

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        // Idempotent, like every DisposeAsync: tests may dispose early and again in a using.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Close politely first (the server sees a normal disconnect), give the server a moment to
        // answer with its close frame, then stop the loops and abort whatever is left.
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // The abort below ends it either way.
            }
        }

        await Task.WhenAny(_receiveLoop, Task.Delay(TimeSpan.FromSeconds(2)));
        await _stopping.CancelAsync();
        _socket.Abort();
        await Task.WhenAny(Task.WhenAll(_receiveLoop, _pingLoop), Task.Delay(TimeSpan.FromSeconds(2)));
        MarkClosed(null, "the client was disposed");
        _socket.Dispose();
        _sendLock.Dispose();
        _stopping.Dispose();
    }

    private static Uri HubUri(Uri baseUrl, string path, string? accessToken)
    {
        var builder = new UriBuilder(new Uri(baseUrl, path))
        {
            Scheme = baseUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        };
        if (accessToken is not null)
        {
            var existing = builder.Query.TrimStart('?');
            var token = "access_token=" + Uri.EscapeDataString(accessToken);
            builder.Query = existing.Length == 0 ? token : existing + "&" + token;
        }

        return builder.Uri;
    }

    private static string RedactToken(Uri uri)
    {
        var text = uri.ToString();
        var at = text.IndexOf("access_token=", StringComparison.Ordinal);
        return at < 0 ? text : text[..(at + "access_token=".Length)] + "***";
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>();
        HandshakeProtocol.WriteRequestMessage(new HandshakeRequestMessage(_protocol.Name, _protocol.Version), request);
        await SendFrameAsync(request.WrittenMemory);

        // The response may share a frame with the first messages; whatever follows it stays buffered.
        while (true)
        {
            if (!await ReceiveIntoBufferAsync(cancellationToken))
            {
                throw new HubConnectException(
                    $"The server closed the connection during the handshake ({_socket.CloseStatus} {_socket.CloseStatusDescription})");
            }

            var sequence = new ReadOnlySequence<byte>(_buffer, 0, _buffered);
            if (HandshakeProtocol.TryParseResponseMessage(ref sequence, out var response))
            {
                Consume(sequence);
                if (response.Error is not null)
                {
                    throw new HubConnectException($"The server rejected the handshake: {response.Error}");
                }

                return;
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        string? closeError = null;
        string reason = "the server closed the WebSocket";
        try
        {
            // Messages left over from the handshake frame come first.
            if (DispatchBuffered(ref closeError))
            {
                return;
            }

            while (await ReceiveIntoBufferAsync(_stopping.Token))
            {
                if (DispatchBuffered(ref closeError))
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            // Whatever ended the loop (a dropped socket, a malformed record) ends the connection.
            if (!_stopping.IsCancellationRequested)
            {
                closeError = $"connection lost: {ex.Message}";
            }

            reason = ex.Message;
        }
        finally
        {
            MarkClosed(closeError, reason);
        }
    }

    /// <summary>Parses every complete record in the buffer; true once a CloseMessage arrived.</summary>
    private bool DispatchBuffered(ref string? closeError)
    {
        var sequence = new ReadOnlySequence<byte>(_buffer, 0, _buffered);
        try
        {
            // Bounded by the buffer: every iteration consumes one record or stops.
            while (true)
            {
                var end = sequence.PositionOf(RecordSeparator);
                if (end is null)
                {
                    return false;
                }

                _binder.NextArgumentCount = CountArguments(sequence.Slice(0, end.Value));
                if (!_protocol.TryParseMessage(ref sequence, _binder, out var message))
                {
                    return false;
                }

                if (message is CloseMessage close)
                {
                    closeError = close.Error;
                    return true;
                }

                Dispatch(message);
            }
        }
        finally
        {
            Consume(sequence);
        }
    }

    private static int CountArguments(ReadOnlySequence<byte> record)
    {
        try
        {
            using var document = JsonDocument.Parse(record);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("arguments", out var arguments)
                && arguments.ValueKind == JsonValueKind.Array
                ? arguments.GetArrayLength()
                : 0;
        }
        catch (JsonException)
        {
            return 0; // the protocol reports the malformed record itself
        }
    }

    private void Dispatch(HubMessage message)
    {
        switch (message)
        {
            case CompletionMessage completion when completion.InvocationId is not null && _pending.TryGetValue(completion.InvocationId, out var pending):
                if (completion.Error is not null)
                {
                    pending.Completion.TrySetException(new HubErrorException(completion.Error));
                }
                else
                {
                    pending.Completion.TrySetResult(completion.HasResult ? HubJson.AsElement(completion.Result) : default);
                }

                break;
            case InvocationMessage invocation:
                _inboxes.For(invocation.Target).Add(HubJson.FromArguments(invocation.Arguments));
                break;
            case InvocationBindingFailureMessage failure:
                throw new InvalidDataException($"Could not bind '{failure.Target}': {failure.BindingFailure.SourceException.Message}");
            default:
                // Pings (the server's keep-alive), stream items, acks: nothing for a test to see.
                break;
        }
    }

    private void MarkClosed(string? error, string reason)
    {
        if (!_inboxes.TryClose(error))
        {
            return;
        }

        foreach (var (_, (method, completion)) in _pending)
        {
            completion.TrySetException(new InvalidOperationException(
                $"The connection closed before '{method}' completed: {error ?? reason}"));
        }
    }

    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(PingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token) && !Closed.IsCompleted)
            {
                await SendMessageAsync(PingMessage.Instance);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopping, or the receive loop is already reporting the broken connection.
        }
    }

    private Task SendMessageAsync(HubMessage message) => SendFrameAsync(_protocol.GetMessageBytes(message));

    private async Task SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        // ClientWebSocket allows one send at a time; pings and invocations share the socket.
        await _sendLock.WaitAsync();
        try
        {
            using var cts = new CancellationTokenSource(DefaultInvokeTimeout);
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cts.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Appends one WebSocket frame's bytes to the buffer; false when the server closed the socket.</summary>
    private async Task<bool> ReceiveIntoBufferAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Length - _buffered < 4096)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var result = await _socket.ReceiveAsync(_buffer.AsMemory(_buffered), cancellationToken);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            if (_socket.State != WebSocketState.CloseReceived)
            {
                return false; // we started the close; the handshake is complete
            }

            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Completing the close handshake is a courtesy.
            }

            return false;
        }

        _buffered += result.Count;
        return true;
    }

    /// <summary>Drops the bytes before <paramref name="rest"/>, which is what the parsers left unread.</summary>
    private void Consume(ReadOnlySequence<byte> rest)
    {
        var remaining = (int)rest.Length;
        Buffer.BlockCopy(_buffer, _buffered - remaining, _buffer, 0, remaining);
        _buffered = remaining;
    }
}
