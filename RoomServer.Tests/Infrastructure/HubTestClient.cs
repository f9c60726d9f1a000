using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Hubs.MessagePack;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The well-behaved client of the tests: the official .NET SignalR client (<see cref="HubConnection"/>,
/// JSON protocol) configured as a real app would be — WebSockets with <c>SkipNegotiation</c> by default,
/// the token from an <c>AccessTokenProvider</c>, no automatic reconnect unless asked. Every target of
/// DESIGN.md §3 (and any added in <see cref="HubTestClientOptions"/>) is registered before the start
/// and recorded as <see cref="JsonElement"/>, queued per target so a test awaits the exact event it
/// expects, with a timeout that says what arrived instead. When an invoke returns, everything the server
/// sent before its result has been recorded (see <see cref="HandlerBarrier"/>). Tests that must
/// misbehave on the wire use <see cref="RawHubClient"/>.
/// </summary>
public sealed partial class HubTestClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultInvokeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    // The text HubConnection gives the exception that fails pending invocations when the server closes
    // the connection with an error; every other HubException of an invoke is the server's answer to it.
    private const string ServerClosedPrefix = "The server closed the connection with the following error:";

    private readonly HubConnection _connection;
    private readonly HubInboxes _inboxes;
    private readonly HandlerBarrier _barrier;
    private readonly CountingHubProtocol _protocol;
    private int _disposed;

    private HubTestClient(HubConnection connection, IReadOnlyDictionary<string, int> targets, HandlerBarrier barrier, CountingHubProtocol protocol)
    {
        _connection = connection;
        _barrier = barrier;
        _protocol = protocol;
        _inboxes = HubInboxes.ForTargets(targets.Keys, () => _connection.State.ToString(), () => _protocol.BindingFailures);
        foreach (var (target, argumentCount) in targets)
        {
            _connection.On(target, Enumerable.Repeat(typeof(JsonElement), argumentCount).ToArray(), Record, _inboxes.For(target));
        }

        _connection.Closed += OnClosedAsync;
    }

    /// <summary>
    /// Completes when the connection ends for good: with the reason (the server's close error, or
    /// what broke the transport), or null for a clean close. By then every message received before
    /// the end is recorded.
    /// </summary>
    public Task<string?> Closed => _inboxes.Closed;

    /// <summary>The official connection itself, for what the kit does not wrap (state, connection id, more handlers).</summary>
    public HubConnection Connection => _connection;

    /// <summary>
    /// Connects to <c>{baseUrl}{path}</c> and completes the handshake. A refused connection or a
    /// handshake error throws <see cref="HubConnectException"/> (with the HTTP status when there is one).
    /// A null <paramref name="accessToken"/> sends none.
    /// </summary>
    public static async Task<HubTestClient> ConnectAsync(Uri baseUrl, string? accessToken, Action<HubTestClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var options = new HubTestClientOptions();
        configure?.Invoke(options);
        var url = new Uri(baseUrl, options.Path);
        var barrier = new HandlerBarrier();
        IHubProtocol wire = options.MessagePack
            ? new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = RawMessagePack.Options }))
            : new JsonHubProtocol();
        var protocol = new CountingHubProtocol(wire, options.Targets, barrier);

        var builder = new HubConnectionBuilder()
            .WithUrl(url, http =>
            {
                if (!options.Negotiate)
                {
                    http.SkipNegotiation = true;
                    http.Transports = HttpTransportType.WebSockets;
                }

                if (accessToken is not null)
                {
                    http.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }

                options.ConfigureHttp?.Invoke(http);
            });
        builder.Services.AddSingleton<IHubProtocol>(protocol);
        if (options.Reconnect is not null)
        {
            builder.WithAutomaticReconnect(options.Reconnect);
        }

        if (options.StatefulReconnect)
        {
            builder.WithStatefulReconnect();
        }

        var connection = builder.Build();
        var client = new HubTestClient(connection, options.Targets, barrier, protocol);
        using var cts = new CancellationTokenSource(options.ConnectTimeout);
        try
        {
            await connection.StartAsync(cts.Token);
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync();
            var what = ex is OperationCanceledException && cts.IsCancellationRequested
                ? $"timed out after {options.ConnectTimeout.TotalSeconds:0.#}s"
                : Describe(ex);
            var status = StatusOf(ex);
            throw new HubConnectException(
                $"Connecting to {url} failed{(status is { } s ? $": HTTP {(int)s} {s}" : string.Empty)}; {what}", status, ex);
        }

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
        ArgumentNullException.ThrowIfNull(args);
        object? result;
        try
        {
            result = await _connection.InvokeCoreAsync(method, typeof(JsonElement), args).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Hub method '{method}' did not complete within {timeout.TotalSeconds:0.#}s");
        }
        catch (HubException ex) when (!ex.Message.StartsWith(ServerClosedPrefix, StringComparison.Ordinal))
        {
            await CatchUpAsync(method);
            throw new HubErrorException(ex.Message, ex);
        }
        catch (Exception ex) when (ex is HubException or OperationCanceledException or IOException or WebSocketException)
        {
            throw new InvalidOperationException($"The connection closed before '{method}' completed: {Describe(ex)}", ex);
        }

        await CatchUpAsync(method);
        return HubJson.AsElement(result);
    }

    /// <summary>The next value the server sent to <paramref name="target"/> (its argument, or a JSON array for a target registered with another count).</summary>
    public Task<JsonElement> NextAsync(string target, TimeSpan? timeout = null) => _inboxes.NextAsync(target, timeout);

    public bool TryRead(string target, out JsonElement value) => _inboxes.TryRead(target, out value);

    /// <summary>Reads <paramref name="target"/> until a value matches, discarding the others.</summary>
    public Task<JsonElement> WaitForAsync(string target, Func<JsonElement, bool> predicate, TimeSpan? timeout = null) =>
        _inboxes.WaitForAsync(target, predicate, timeout);

    /// <summary>Everything ever received on <paramref name="target"/>, in order (read or not).</summary>
    public IReadOnlyList<JsonElement> Received(string target) => _inboxes.Received(target);

    public async ValueTask DisposeAsync()
    {
        // Idempotent, like every DisposeAsync: tests may dispose early and again in a using.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // A graceful stop (the server sees a normal disconnect), bounded so a test never hangs here.
        try
        {
            await _connection.DisposeAsync().AsTask().WaitAsync(DisposeTimeout);
        }
        catch (TimeoutException)
        {
            // Whatever is left dies with the test process; the inboxes are completed below either way.
        }

        _inboxes.TryClose(null);
    }

    /// <summary>The handler of every recorded target; the state is the target's inbox.</summary>
    private Task Record(object?[] arguments, object? state)
    {
        ((HubInbox)state!).Add(HubJson.FromArguments(arguments));
        _barrier.Handled();
        return Task.CompletedTask;
    }

    private async Task OnClosedAsync(Exception? error)
    {
        // The receive loop has ended; let the handlers record what it parsed before the inboxes complete.
        try
        {
            await _barrier.CaughtUpAsync().WaitAsync(CatchUpTimeout);
        }
        catch (TimeoutException)
        {
            // Complete anyway: a reader then fails with the close instead of waiting for nothing.
        }

        _inboxes.TryClose(error is null ? null : Describe(error));
    }

    private async Task CatchUpAsync(string method)
    {
        try
        {
            await _barrier.CaughtUpAsync().WaitAsync(CatchUpTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"'{method}' completed, but the handlers did not record the messages sent before it within {CatchUpTimeout.TotalSeconds:0.#}s ({_barrier.Describe()})");
        }
    }

    private static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var current = ex; current is not null; current = current.InnerException)
        {
            messages.Add($"{current.GetType().Name}: {current.Message}");
        }

        return string.Join(" ---> ", messages);
    }

    /// <summary>
    /// The HTTP status of a refused connection: a failed negotiate carries it; a refused WebSocket
    /// upgrade only says it in <see cref="WebSocketException"/>'s message ("The server returned status
    /// code '401' when status code '101' was expected"), which is where this reads it from.
    /// </summary>
    private static HttpStatusCode? StatusOf(Exception ex)
    {
        for (var current = ex; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case HttpRequestException { StatusCode: { } status }:
                    return status;
                case WebSocketException when UpgradeStatus().Match(current.Message) is { Success: true } match:
                    return (HttpStatusCode)int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                default:
                    break;
            }
        }

        return null;
    }

    [GeneratedRegex(@"status code '(\d{3})'")]
    private static partial Regex UpgradeStatus();
}
