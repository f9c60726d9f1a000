using System.Net;
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
/// call, answers <c>unavailable</c> at the same moment and never hangs. On a Redis Cluster (several
/// nodes in <c>ConnectionStrings:Redis</c> work unchanged) it knows the <see cref="RedisTopology"/>
/// and confirms writes with <c>WAIT</c> (<see cref="EvaluateConfirmedAsync"/>), on a connection of
/// their own (<see cref="ConfirmedWritesConnection"/>).
/// </summary>
public sealed partial class RedisConnection(
    IOptions<RedisConnectionOptions> connectionOptions,
    IOptions<RoomServerOptions> options,
    RoomMetrics metrics,
    IHostApplicationLifetime lifetime,
    ReplicaExit exit,
    ILogger<RedisConnection> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>
    /// What a <c>WAIT</c> leaves of the deadline, so its "not confirmed" answer arrives before the deadline
    /// fires. Redis answers a timed-out WAIT on its next server tick, not on time: at its default
    /// <c>hz 10</c> up to 100 ms late (a WAIT of 50 ms took 81, of 120 took 203, on this project's box);
    /// with 50 ms here, half of the WAITs that found no replica were overtaken by the deadline.
    /// </summary>
    internal static readonly TimeSpan WaitMargin = TimeSpan.FromMilliseconds(200);

    /// <summary>What a reshard's last resend leaves of the deadline for its answer.</summary>
    private static readonly TimeSpan ResendMargin = TimeSpan.FromMilliseconds(50);

    /// <summary>What a confirmed write's resends (a reshard) leave of the deadline for its <c>WAIT</c>.</summary>
    internal static readonly TimeSpan WaitAllowance = TimeSpan.FromMilliseconds(100);

    private readonly TimeSpan _deadline = TimeSpan.FromMilliseconds(options.Value.StoreTimeoutMilliseconds);
    private ConnectionMultiplexer? _multiplexer;
    private ConfirmedWritesConnection? _confirmedWrites;
    private RedisTopology? _topology;

    /// <summary>Why the settings cannot work with the server, once that was learnt after start-up (the replica is stopping).</summary>
    private string? _misconfigured;

    /// <summary>Raised when a connection of the given type comes back after a failure.</summary>
    public event Action<ConnectionType>? Restored;

    /// <summary>
    /// Raised on a cluster when a subscription connection fails or a slot moves (a failover): sharded
    /// channels live on their slot's master, so those of a failed master must be subscribed again on
    /// the replica promoted in its place — a node that never comes back never raises <see cref="Restored"/>.
    /// Raised too on a single server listed with its replica(s) when a subscription connection fails: its
    /// master may have died with a replica promoted in its place (the library moves the subscriptions there and
    /// the heartbeat may never go deaf), so the backplane must re-check its rooms' epochs (RedisBackplane).
    /// </summary>
    public event Action? ShardsChanged;

    public string ReplicaId => options.Value.ReplicaId;

    public bool IsConnected => _multiplexer?.IsConnected ?? false;

    public ISubscriber Subscriber => Multiplexer.GetSubscriber();

    /// <summary>For callers beyond the room store (the order outbox); run each call through <see cref="CallAsync"/>.</summary>
    public IConnectionMultiplexer Connection => Multiplexer;

    /// <summary>The topology, decided at the first reachable server; <c>unavailable</c> while none is reachable.</summary>
    public RedisTopology Topology => _topology ?? ResolveTopology()
        ?? throw RoomException.Unavailable("no Redis node is reachable yet; nothing was acknowledged — retry with the same opId (a hub call) or Idempotency-Key (an HTTP POST)");

    /// <summary>
    /// The topology once a node has been reached, waiting for that at most <paramref name="within"/> (a replica starts
    /// before its connection does); <c>unavailable</c> after that, or at once when the settings cannot work.
    /// </summary>
    public async Task<RedisTopology> TopologyWhenKnownAsync(TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return Topology;
            }
            catch (RoomException) when (_misconfigured is null && clock.Elapsed < within)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>The configured nodes' host:port only: the connection string may carry a password, and <c>/readyz</c> is public.</summary>
    private string ConfiguredEndpoints() =>
        string.Join(",", ConfigurationOptions.Parse(connectionOptions.Value.ConnectionString).EndPoints.Select(HostPort));

    internal static string HostPort(EndPoint endPoint) => endPoint is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endPoint.ToString() ?? string.Empty;

    private ConnectionMultiplexer Multiplexer =>
        _multiplexer ?? throw RoomException.Unavailable("the Redis connection has not been started");

    private ConfirmedWritesConnection ConfirmedWrites =>
        _confirmedWrites ?? throw RoomException.Unavailable("the Redis connection has not been started");

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

        // RESP2, not 3.x's RESP3 default: pub/sub on a connection of its own, so a burst of room messages
        // never queues in front of a script's reply, and the backplane watches that connection's restore
        // (ConnectionType.Subscription) to re-subscribe and verify. (This library version keeps a separate
        // subscription connection under RESP3 too, CLIENT LIST shows; RESP2 is what the replies' readers
        // and that restore handling are written and tested against.)
        config.Protocol = RedisProtocol.Resp2;
        RedisLog.Connecting(logger, string.Join(",", config.EndPoints), options.Value.ReplicaId);

        _confirmedWrites = new ConfirmedWritesConnection(config.Clone(), options.Value.ReplicaId, logger);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            RedisLog.ConnectionFailed(logger, options.Value.ReplicaId, e.ConnectionType.ToString(), e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);
            if (e.ConnectionType == ConnectionType.Subscription && _topology is { } topology && (topology.IsCluster || config.EndPoints.Count > 1))
            {
                ShardsChanged?.Invoke();
            }
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            RedisLog.ConnectionRestored(logger, options.Value.ReplicaId, e.ConnectionType.ToString(), e.EndPoint?.ToString() ?? "?");
            Restored?.Invoke(e.ConnectionType);
        };
        multiplexer.HashSlotMoved += (_, e) =>
        {
            if (_topology is { IsCluster: true })
            {
                RedisLog.SlotMoved(logger, options.Value.ReplicaId, e.HashSlot, e.OldEndPoint?.ToString() ?? "?", e.NewEndPoint?.ToString() ?? "?");
                RequestReconfigure();
                ShardsChanged?.Invoke();
            }
        };
        _multiplexer = multiplexer;

        // A reachable server decides the topology now, so "ShardedPubSub on" against a single server
        // stops the start-up with its message; if none is reachable, the first call decides.
        if (ResolveTopology(atStartup: true) is { ReplicasToAcknowledge: > 0 })
        {
            // Connected before the replica serves, like the main connection: the first writes must
            // not wait for it, and /readyz needs it.
            await _confirmedWrites.GetAsync();
        }
    }

    private RedisTopology? ResolveTopology(bool atStartup = false)
    {
        if (_multiplexer is not { } multiplexer)
        {
            return null;
        }

        if (_misconfigured is not null)
        {
            throw RoomException.Unavailable("the Redis configuration is wrong; see the server log");
        }

        RedisTopology? topology;
        try
        {
            topology = RedisTopology.Resolve(multiplexer, options.Value.Redis, options.Value.StoreTimeoutMilliseconds);
        }
        catch (InvalidOperationException ex) when (!atStartup)
        {
            // Learnt only after start-up (no server was reachable then): the same refusal, as late as it can
            // be — said once, and the exit code says it too (ReplicaExit).
            if (Interlocked.CompareExchange(ref _misconfigured, ex.Message, null) is null)
            {
                RedisLog.Misconfigured(logger, ex.Message);
                exit.Refused();

                // Off this thread: stopping runs the drain (ReplicaDrain) inside StopApplication, and the
                // drain waits for calls in flight — this one among them.
                _ = Task.Run(lifetime.StopApplication);
            }

            throw RoomException.Unavailable("the Redis configuration is wrong; see the server log", ex);
        }

        if (topology is not null && Interlocked.CompareExchange(ref _topology, topology, null) is null)
        {
            RedisLog.TopologyResolved(logger, options.Value.ReplicaId, topology.IsCluster ? "a Redis Cluster" : "a single Redis server",
                topology.ShardedPubSub ? "sharded (SPUBLISH/SSUBSCRIBE)" : "classic (PUBLISH/SUBSCRIBE)", topology.ReplicasToAcknowledge);
        }

        return _topology;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Interlocked.Exchange(ref _confirmedWrites, null) is { } confirmedWrites)
            {
                await confirmedWrites.DisposeAsync();
            }
        }
        finally
        {
            await DisposeMainAsync();
        }
    }

    private async Task DisposeMainAsync()
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
    public Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        return CallAsync(script.Name, () => EvaluateThroughReshardAsync(() => script.EvaluateAsync(Multiplexer.GetDatabase(), keys, args), started, ResendMargin));
    }

    /// <summary>
    /// The script, sent again while a reshard refuses it (<see cref="UnstableSlotRetry"/>) — never once
    /// the deadline counted from <paramref name="started"/>, less <paramref name="reserve"/>, has passed
    /// (a resend still in flight then is like any call at the deadline: <c>unavailable</c>, and the
    /// retry with the same opId is idempotent).
    /// </summary>
    private Task<RedisResult> EvaluateThroughReshardAsync(Func<Task<RedisResult>> evaluate, long started, TimeSpan reserve) =>
        UnstableSlotRetry.RunAsync(evaluate, _deadline - System.Diagnostics.Stopwatch.GetElapsedTime(started) - reserve, TimeProvider.System);

    /// <summary>
    /// Runs a write script, then — when <paramref name="wrote"/> says it changed something and the
    /// topology asks for replica acknowledgements — confirms it with <c>WAIT n ms</c> before the caller
    /// acknowledges it: Redis replicates asynchronously, so a master that fails right after a write
    /// would otherwise lose it. One deadline bounds both. WAIT counts the replicas holding every
    /// earlier write of <em>its connection</em>, so it goes to the node that ran the script (the
    /// multiplexer keeps one interactive connection per node: same node, same connection), also when a
    /// reshard or a failover sent it elsewhere than the slot map said (<see cref="ConfirmingNodes"/>).
    /// Both go through <see cref="ConfirmedWritesConnection"/>: WAIT blocks its connection, and nothing
    /// else may wait behind it. Fewer replicas than asked, or no answer → <c>unavailable</c>: the write
    /// may have been applied, and a retry with the same opId is idempotent.
    /// </summary>
    public Task<RedisResult> EvaluateConfirmedAsync(RedisScript script, RedisKey[] keys, RedisValue[] args, Func<RedisResult, bool> wrote)
    {
        var replicas = Topology.ReplicasToAcknowledge;
        if (replicas == 0)
        {
            return EvaluateAsync(script, keys, args);
        }

        return CallAsync(script.Name, async () =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var multiplexer = await ConfirmedWrites.GetAsync();
            var (result, ranOn) = await ConfirmedWrites.TrackAsync(() => EvaluateThroughReshardAsync(
                () => script.EvaluateAsync(multiplexer.GetDatabase(), keys, args),
                started,
                WaitMargin + WaitAllowance));
            if (!wrote(result))
            {
                return result;
            }

            if (ranOn is null)
            {
                RedisLog.WriteNodeNotRecorded(logger, script.Name);
            }

            var nodes = ConfirmingNodes(multiplexer, ranOn);
            var left = _deadline - System.Diagnostics.Stopwatch.GetElapsedTime(started) - WaitMargin;
            var waitMilliseconds = Math.Max(1L, (long)left.TotalMilliseconds);
            var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var confirmed = await ConfirmedByAsync(nodes, replicas, waitMilliseconds);
            metrics.RedisCall("wait", System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted).TotalMilliseconds, ok: confirmed >= replicas);
            return confirmed >= replicas
                ? result
                : throw NotConfirmed(script.Name, replicas, confirmed, nodes.Length == 0
                    ? "no master known to ask"
                    : $"WAIT {replicas} {waitMilliseconds} on {string.Join(" and ", nodes.Select(n => n.EndPoint))}");
        });
    }

    /// <summary>
    /// The fewest replicas any of the nodes confirmed; none when there is no node to ask (no master
    /// known). Almost always one node: no fan-out then.
    /// </summary>
    private static async Task<long> ConfirmedByAsync(IServer[] nodes, int replicas, long waitMilliseconds)
    {
        if (nodes.Length == 0)
        {
            return 0;
        }

        if (nodes.Length == 1)
        {
            return (long)await nodes[0].ExecuteAsync("WAIT", replicas, waitMilliseconds);
        }

        return (await Task.WhenAll(nodes.Select(async node => (long)await node.ExecuteAsync("WAIT", replicas, waitMilliseconds)))).Min();
    }

    /// <summary>
    /// Where a write's <c>WAIT</c> goes: the node that ran it, wherever a reshard or a failover sent it
    /// (<see cref="ConfirmedWritesConnection.TrackAsync"/>) — never where the slot map says, which the
    /// library updates only after it has followed a MOVED. Had no send been recorded (which a write
    /// that got an answer always has, unless another profiler replaced ours), every master must confirm
    /// it — the safe side: a master that cannot answers <c>unavailable</c> — and a warning says so.
    /// </summary>
    private static IServer[] ConfirmingNodes(ConnectionMultiplexer multiplexer, EndPoint? ranOn) =>
        ranOn is not null ? [multiplexer.GetServer(ranOn)] : [.. multiplexer.GetServers().Where(s => !s.IsReplica)];

    private RoomException NotConfirmed(string operation, int wanted, long confirmed, string reason)
    {
        RedisLog.WriteNotConfirmed(logger, operation, wanted, confirmed, reason);
        return RoomException.Unavailable(
            "the write could not be confirmed on a Redis replica in time; it may have been applied — retry with the same opId (a hub call) or Idempotency-Key (an HTTP POST)");
    }

    /// <summary>
    /// Readiness (<c>/readyz</c>), with what is wrong. One server: it answers PING and a master (not a
    /// replica listed beside it) is connected. A cluster: every
    /// master holding slots (as CLUSTER NODES says now) is reachable and answers PING; a configured or
    /// known node that cannot be reached while every slot is served (a replica, a listed node that is
    /// down) leaves the replica ready, and the detail names it. When writes are confirmed, the
    /// confirmed-writes connection must reach every master too.
    /// </summary>
    public async Task<StoreReadiness> CheckReadinessAsync()
    {
        if (_multiplexer is not { } multiplexer || !multiplexer.IsConnected)
        {
            return new StoreReadiness(false, $"no Redis node reachable ({ConfiguredEndpoints()})");
        }

        try
        {
            var topology = Topology;
            if (!topology.IsCluster)
            {
                await PingAsync();

                // With its replica listed too, the library serves PING and pub/sub from the replica once the
                // master is gone, while every write fails: ready only with a master, however writes are confirmed.
                var connected = multiplexer.GetServers().Where(s => s.IsConnected).ToList();
                if (!connected.Any(s => !s.IsReplica))
                {
                    // A replica promoted meanwhile shows as the master once the library re-reads the roles.
                    RequestReconfigure();
                    return new StoreReadiness(false,
                        $"no Redis master connected, only replicas ({string.Join(",", connected.Select(s => HostPort(s.EndPoint)))}): writes cannot be served");
                }

                var writesDown = ConfirmedWritesDown(master: null);
                return new StoreReadiness(writesDown is null, writesDown);
            }

            // The library's own view of the cluster (CLUSTER NODES as of its last reconfiguration, which
            // a failover or MOVED triggers; CLUSTER itself is an admin command we do not enable).
            var servers = multiplexer.GetServers();

            // The multiplexer said connected a moment ago; its last node may have dropped since (a failover).
            if (servers.FirstOrDefault(s => s.IsConnected) is not { } reachable)
            {
                RequestReconfigure();
                return new StoreReadiness(false, $"no Redis node reachable ({ConfiguredEndpoints()})");
            }

            var nodes = reachable.ClusterConfiguration;
            var problems = new List<string>();
            var ready = nodes is not null;
            foreach (var master in nodes?.Nodes.Where(n => !n.IsReplica && n.Slots.Count > 0) ?? [])
            {
                IServer server;
                try
                {
                    server = multiplexer.GetServer(master.EndPoint);
                }
                catch (ArgumentException)
                {
                    // A node CLUSTER NODES lists that the connection has not learnt of yet (one added or
                    // promoted during a topology change): not ready until it has re-read the cluster.
                    ready = false;
                    problems.Add($"master {master.EndPoint} (slots {string.Join(' ', master.Slots)}) not known to this replica's connection yet");
                    continue;
                }

                if (master.IsFail || !server.IsConnected)
                {
                    ready = false;
                    problems.Add($"master {master.EndPoint} (slots {string.Join(' ', master.Slots)}) unreachable");
                    continue;
                }

                await CallAsync("ping", () => server.PingAsync());
                if (master.EndPoint is { } endPoint && ConfirmedWritesDown(endPoint) is { } writesDown)
                {
                    ready = false;
                    problems.Add(writesDown);
                }
            }

            if (!ready)
            {
                RequestReconfigure();
            }

            var down = servers.Where(s => !s.IsConnected).Select(s => s.EndPoint.ToString()).ToList();
            if (down.Count > 0)
            {
                problems.Add($"{down.Count} of {servers.Length} Redis nodes unreachable: {string.Join(", ", down)}");
            }

            return new StoreReadiness(ready, problems.Count == 0 ? null : (ready ? "degraded: " : "") + string.Join("; ", problems));
        }
        catch (RoomException ex)
        {
            return new StoreReadiness(false, ex.Message);
        }
    }

    /// <summary>
    /// What is wrong with the confirmed writes' connection to a master, when the topology confirms
    /// writes: a replica whose writes cannot reach a master answers each one <c>unavailable</c>, so it
    /// must not call itself ready.
    /// </summary>
    private string? ConfirmedWritesDown(EndPoint? master)
    {
        if (Topology.ReplicasToAcknowledge == 0 || _confirmedWrites is not { } writes)
        {
            return null;
        }

        if (writes.Current is not { } multiplexer)
        {
            try
            {
                _ = writes.GetAsync();
            }
            catch (ObjectDisposedException)
            {
                // Shutting down.
            }

            return "the confirmed-writes connection is not up yet";
        }

        if (master is null)
        {
            // One server (perhaps with its replicas listed too): whichever is master now.
            return multiplexer.GetServers().Any(s => s.IsConnected && !s.IsReplica) ? null : "the confirmed-writes connection reaches no master";
        }

        try
        {
            return multiplexer.GetServer(master).IsConnected ? null : $"the confirmed-writes connection to master {master} is down";
        }
        catch (ArgumentException)
        {
            // A node it has not learnt of yet (one added to the cluster): have it re-read the cluster.
            writes.Reconfigure();
            return $"the confirmed-writes connection does not know master {master} yet";
        }
    }

    /// <summary>The hash slot of a key or channel name (the same CRC16 of its hash tag for both).</summary>
    public int HashSlot(RedisKey key) => Multiplexer.HashSlot(key);

    /// <summary>The slot ranges of each master of the cluster, as the library last read them (none on a single server).</summary>
    public IReadOnlyList<IReadOnlyList<SlotRange>> MasterSlotRanges() =>
        Multiplexer.GetServers().FirstOrDefault(s => s.IsConnected)?.ClusterConfiguration?.Nodes
            .Where(n => !n.IsReplica && n.Slots.Count > 0)
            .Select(n => (IReadOnlyList<SlotRange>)[.. n.Slots])
            .ToList() ?? [];

    private static readonly TimeSpan ReconfigureEvery = TimeSpan.FromSeconds(2);
    private long _lastReconfigure;
    private int _reconfigureScheduled;

    /// <summary>
    /// Asks the library to re-read the cluster's shape, so a failover or a reshard shows promptly: the
    /// confirmed writes' multiplexer (which learns of moves only by its own MOVED replies) and the main
    /// one (which follows MOVED by itself, but re-reads which master serves which slots — readiness, the
    /// heartbeats' shards — only when asked). At most every 2 s however many MOVED a reshard sends; a
    /// request inside that window is not dropped but runs once when it ends, so the last move of a
    /// reshard is always read.
    /// </summary>
    private void RequestReconfigure()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastReconfigure);
        var wait = (long)ReconfigureEvery.TotalMilliseconds - (now - last);
        if (wait < 0 && Interlocked.CompareExchange(ref _lastReconfigure, now, last) == last)
        {
            _ = _multiplexer?.ConfigureAsync();
            _confirmedWrites?.Reconfigure();
        }
        else if (Interlocked.Exchange(ref _reconfigureScheduled, 1) == 0)
        {
            _ = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, wait))).ContinueWith(
                _ =>
                {
                    Volatile.Write(ref _reconfigureScheduled, 0);
                    RequestReconfigure();
                },
                TaskScheduler.Default);
        }
    }

    public Task<bool> KeyExistsAsync(RedisKey key) =>
        CallAsync("exists", () => Multiplexer.GetDatabase().KeyExistsAsync(key));

    public Task<RedisValue> HashGetAsync(RedisKey key, RedisValue field) =>
        CallAsync("hget", () => Multiplexer.GetDatabase().HashGetAsync(key, field));

    public Task<long> PublishAsync(RedisChannel channel, RedisValue message) =>
        CallAsync("publish", () => Multiplexer.GetDatabase().PublishAsync(channel, message));

    public Task<TimeSpan> PingAsync() => CallAsync("ping", () => Multiplexer.GetDatabase().PingAsync());

    /// <summary>
    /// Subscribes a queue to the channel under the deadline. The library registers the queue before it asks Redis,
    /// and would keep it — restoring it on every reconnect, filling it with nobody reading — after a subscribe that
    /// fails or times out; so then every handler of the channel goes. Only for a channel with one subscriber here
    /// (a room's, a beat's).
    /// A shard channel on its master only (<see cref="ShardedChannels.SubscribeFlags"/>).
    /// </summary>
    public async Task<ChannelMessageQueue> SubscribeQueueAsync(RedisChannel channel)
    {
        try
        {
            return await CallAsync("subscribe", () => Subscriber.SubscribeAsync(channel, ShardedChannels.SubscribeFlags(channel)));
        }
        catch (RoomException)
        {
            await RemoveEveryHandlerAsync(channel, TimeSpan.FromSeconds(1));
            throw;
        }
    }

    /// <summary>Drops every handler and queue of the channel: at once locally, then Redis is told if it answers within <paramref name="wait"/>.</summary>
    public async Task RemoveEveryHandlerAsync(RedisChannel channel, TimeSpan wait)
    {
        try
        {
            await Subscriber.UnsubscribeAsync(channel).WaitAsync(wait);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // Gone locally already; the server learns when the connection does.
        }
    }

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
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            metrics.RedisCall(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok: false);
            RedisLog.CallFailed(logger, operation, $"{ex.GetType().Name}: {ex.Message}");
            throw RoomException.Unavailable(
                IsOutOfMemory(ex)
                    ? "the room store is full (Redis reached its maxmemory); nothing was changed — retry later with the same opId (a hub call) or Idempotency-Key (an HTTP POST)"
                    : "the room store did not answer in time; nothing was acknowledged — retry with the same opId (a hub call) or Idempotency-Key (an HTTP POST)",
                ex);
        }
        catch (RoomException)
        {
            // A write no replica confirmed in time, or no node to send it to: failed calls too.
            metrics.RedisCall(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, ok: false);
            throw;
        }
    }

    /// <summary>
    /// Redis at its maxmemory (noeviction) refuses a script's first write, so nothing of it was applied
    /// (a script that has written may go on: it is never stopped half-way).
    /// </summary>
    private static bool IsOutOfMemory(Exception ex) =>
        ex is RedisServerException && ex.Message.Contains("OOM command not allowed", StringComparison.Ordinal);
}

/// <summary>Bound from <c>ConnectionStrings:Redis</c>; its presence selects scaled mode.</summary>
public sealed class RedisConnectionOptions
{
    public string ConnectionString { get; set; } = "";
}

/// <summary>
/// A connection string the client library cannot use fails the start naming the setting: the library's own
/// words ("No endpoints specified (Parameter 'config')") name neither it nor what to write. The value is
/// never repeated: it may hold a password.
/// </summary>
public sealed class RedisConnectionStringValidator : IValidateOptions<RedisConnectionOptions>
{
    private const string Setting = "ConnectionStrings__Redis";
    private const string Form = "host:port[,host:port...][,option=value...], e.g. localhost:6379";

    public ValidateOptionsResult Validate(string? name, RedisConnectionOptions options)
    {
        try
        {
            return ConfigurationOptions.Parse(options.ConnectionString).EndPoints.Count > 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{Setting} names no Redis endpoint: write {Form}.");
        }
        catch (ArgumentException)
        {
            // Not the library's message: it names an unknown keyword or a bad value, which may be part of a password.
            return ValidateOptionsResult.Fail($"{Setting} cannot be read (an option the client library does not know, or a value out of range): write {Form}.");
        }
    }
}
