using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The multiplexer of the writes that a replica must confirm (<c>WAIT</c>, <see cref="RedisConnection.EvaluateConfirmedAsync"/>).
/// WAIT goes on the connection that carried the write, and blocks it until the replicas answer or
/// the deadline passes. On the shared connection, a shard whose replica was gone held every read,
/// sweep, readiness ping and heartbeat of that shard behind each write's WAIT: a read took seconds,
/// and the late heartbeats made every replica deaf to that shard, so none was ready. Here only the
/// scripts to confirm and their WAITs wait for each other. Connected on first use, or at start-up when
/// the topology asks for confirmations; it opens no subscription connections.
/// </summary>
internal sealed class ConfirmedWritesConnection(ConfigurationOptions shared, string replicaId, ILogger logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private bool _disposed;

    /// <summary>The connected (or still connecting, and retrying in the background) multiplexer.</summary>
    public Task<ConnectionMultiplexer> GetAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is { IsFaulted: true })
            {
                // Connecting failed outright (not "unreachable": that retries in the background): try again.
                _connecting = null;
            }

            return _connecting ??= ConnectAsync();
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var config = shared.Clone();
        config.ClientName = replicaId + "-writes";
        config.CommandMap = CommandMap.Create(["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"], available: false);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(
            logger, replicaId, "confirmed writes", e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);
        return multiplexer;
    }

    public async ValueTask DisposeAsync()
    {
        Task<ConnectionMultiplexer>? connecting;
        lock (_gate)
        {
            _disposed = true;
            connecting = _connecting;
        }

        if (connecting is null)
        {
            return;
        }

        try
        {
            var multiplexer = await connecting;
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
            multiplexer.Dispose();
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or TimeoutException)
        {
            // Shutting down with Redis away: there is nothing left to close politely.
            RedisLog.CallFailed(logger, "close confirmed writes", $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
