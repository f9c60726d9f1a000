using System.Net;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

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

    // The write of the flow that runs one (TrackAsync): the library records each send, its own MOVED and
    // ASK resends too, with the node it went to. A holder, emptied when the write is done: the library
    // starts some background work (a reconnect's reader) without suppressing the execution context,
    // and that work must not go on recording into a finished write's session.
    private readonly AsyncLocal<Tracking?> _tracked = new();

    private sealed class Tracking
    {
        public ProfilingSession? Session;
    }

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

        // A command issued while the connection is down fails at once instead of waiting in the
        // library's backlog: a WAIT sent later on a new socket counts that socket's writes (none) and
        // would confirm a write it never saw.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        // The multiplexer's only profiler (the library keeps one): TrackAsync depends on it.
        multiplexer.RegisterProfiler(() => _tracked.Value?.Session);
        multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(
            logger, replicaId, "confirmed writes", e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);
        return multiplexer;
    }

    /// <summary>
    /// Runs a write and says which node answered it: the last send the library completed for it, after
    /// any MOVED or ASK it followed and any resend of ours. That node ran the write, so its replicas are
    /// the ones that must confirm it. Null if no script send was recorded.
    /// </summary>
    public async Task<(RedisResult Result, EndPoint? RanOn)> TrackAsync(Func<Task<RedisResult>> write)
    {
        var session = new ProfilingSession();
        var tracking = new Tracking { Session = session };
        _tracked.Value = tracking; // this flow's calls only: an async method restores its caller's context
        RedisResult result;
        try
        {
            result = await write();
        }
        finally
        {
            tracking.Session = null;
        }

        EndPoint? ranOn = null;
        foreach (var sent in session.FinishProfiling())
        {
            if (sent.Command is "EVALSHA" or "EVAL")
            {
                ranOn = sent.EndPoint;
            }
        }

        return (result, ranOn);
    }

    /// <summary>The multiplexer once connected (null while connecting, or if connecting failed).</summary>
    public ConnectionMultiplexer? Current
    {
        get
        {
            lock (_gate)
            {
                return _connecting is { IsCompletedSuccessfully: true } done ? done.Result : null;
            }
        }
    }

    /// <summary>Re-reads the cluster's shape, when the main connection learns it changed (a failover).</summary>
    public void Reconfigure()
    {
        if (Current is { } multiplexer)
        {
            _ = multiplexer.ConfigureAsync();
        }
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

        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await connecting;
        }
        catch (Exception ex)
        {
            // It never connected: nothing to close. Shutting down must go on to the main connection.
            RedisLog.CallFailed(logger, "connect confirmed writes", $"{ex.GetType().Name}: {ex.Message}");
            return;
        }

        try
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or TimeoutException)
        {
            // Shutting down with Redis away: there is nothing left to close politely.
            RedisLog.CallFailed(logger, "close confirmed writes", $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            multiplexer.Dispose();
        }
    }
}
