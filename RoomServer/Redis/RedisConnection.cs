using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Owns the room store's multiplexer (SignalR's own backplane has a second one, see
/// RedisRoomsExtensions). Connects at start-up without aborting when Redis is down (it keeps
/// retrying in the background, and <c>/readyz</c> reports it). One deadline governs every call,
/// <c>RoomServer:StoreTimeoutMilliseconds</c>: it is the library's own async/sync timeout, and each
/// call is also awaited under it, so a call that is queued while Redis is away, or a subscription
/// call, answers <c>unavailable</c> at the same moment and never hangs.
/// </summary>
public sealed class RedisConnection(
    IOptions<RedisConnectionOptions> connectionOptions,
    IOptions<RoomServerOptions> options,
    RoomMetrics metrics,
    ILogger<RedisConnection> logger) : IHostedService, IAsyncDisposable
{
    private readonly TimeSpan _deadline = TimeSpan.FromMilliseconds(options.Value.StoreTimeoutMilliseconds);
    private ConnectionMultiplexer? _multiplexer;

    /// <summary>Raised when a connection of the given type comes back after a failure.</summary>
    public event Action<ConnectionType>? Restored;

    public string ReplicaId => options.Value.ReplicaId;

    public bool IsConnected => _multiplexer?.IsConnected ?? false;

    public ISubscriber Subscriber => Multiplexer.GetSubscriber();

    /// <summary>For callers beyond the room store (the order outbox); run each call through <see cref="CallAsync"/>.</summary>
    public IConnectionMultiplexer Connection => Multiplexer;

    private ConnectionMultiplexer Multiplexer =>
        _multiplexer ?? throw RoomException.Unavailable("the Redis connection has not been started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = ConfigurationOptions.Parse(connectionOptions.Value.ConnectionString);
        config.AbortOnConnectFail = false;
        config.ClientName = options.Value.ReplicaId;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 5000);
        config.KeepAlive = 5;
        config.ReconnectRetryPolicy = new LinearRetry(500);
        config.AsyncTimeout = (int)_deadline.TotalMilliseconds;
        config.SyncTimeout = (int)_deadline.TotalMilliseconds;

        // RESP2, not 3.x's RESP3 default: it keeps pub/sub on a connection of its own, so a burst of
        // room messages never queues in front of a script's reply, and the backplane can watch that
        // connection's restore (ConnectionType.Subscription) to re-subscribe and verify.
        config.Protocol = RedisProtocol.Resp2;
        RedisLog.Connecting(logger, string.Join(",", config.EndPoints), options.Value.ReplicaId);

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        multiplexer.ConnectionFailed += (_, e) =>
            RedisLog.ConnectionFailed(logger, options.Value.ReplicaId, e.ConnectionType.ToString(), e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);
        multiplexer.ConnectionRestored += (_, e) =>
        {
            RedisLog.ConnectionRestored(logger, options.Value.ReplicaId, e.ConnectionType.ToString(), e.EndPoint?.ToString() ?? "?");
            Restored?.Invoke(e.ConnectionType);
        };
        _multiplexer = multiplexer;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _multiplexer, null) is not { } multiplexer)
        {
            return;
        }

        try
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or TimeoutException)
        {
            // Shutting down with Redis away: there is nothing left to close politely.
            RedisLog.CallFailed(logger, "close", $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            multiplexer.Dispose();
        }
    }

    /// <summary>Runs a script under the deadline. Any failure to get an answer becomes <c>unavailable</c>.</summary>
    public Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args) =>
        CallAsync(script.Name, () => script.EvaluateAsync(Multiplexer.GetDatabase(), keys, args));

    public Task<bool> KeyExistsAsync(RedisKey key) =>
        CallAsync("exists", () => Multiplexer.GetDatabase().KeyExistsAsync(key));

    public Task<RedisValue> HashGetAsync(RedisKey key, RedisValue field) =>
        CallAsync("hget", () => Multiplexer.GetDatabase().HashGetAsync(key, field));

    public Task<long> PublishAsync(RedisChannel channel, RedisValue message) =>
        CallAsync("publish", () => Multiplexer.GetDatabase().PublishAsync(channel, message));

    public Task<TimeSpan> PingAsync() => CallAsync("ping", () => Multiplexer.GetDatabase().PingAsync());

    /// <summary>Runs one Redis call under the deadline (the subscriber's too).</summary>
    public async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var result = await call().WaitAsync(_deadline);
            metrics.RedisCall(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok: true);
            return result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            metrics.RedisCall(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok: false);
            RedisLog.CallFailed(logger, operation, $"{ex.GetType().Name}: {ex.Message}");
            throw RoomException.Unavailable("the room store did not answer in time; nothing was acknowledged — retry (with the same opId)", ex);
        }
    }
}

/// <summary>Bound from <c>ConnectionStrings:Redis</c>; its presence selects scaled mode.</summary>
public sealed class RedisConnectionOptions
{
    public string ConnectionString { get; set; } = "";
}
