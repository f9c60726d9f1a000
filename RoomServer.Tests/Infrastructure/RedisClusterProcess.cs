using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A private Redis Cluster: six redis-server processes (<c>--cluster-enabled yes</c>, AOF on) on free
/// loopback ports, joined by <c>redis-cli --cluster create --cluster-replicas 1</c> into 3 masters with
/// one replica each. A test may kill -9 a node, promote its replica (<see cref="TakeOverAsync"/>) and
/// start the node again, which rejoins as a replica. Every node is killed on dispose, by pid.
/// Which node holds what is always asked of the cluster (CLUSTER KEYSLOT / CLUSTER NODES), never assumed.
/// </summary>
public sealed class RedisClusterProcess : IAsyncDisposable
{
    public const int NodeCount = 6;
    public const int NodeTimeoutMilliseconds = 3000;
    private const int MaxStartAttempts = 3;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(45);

    private readonly string _executable;
    private readonly string _dataDir;
    private readonly List<Node> _nodes = [];

    private RedisClusterProcess(string executable, string dataDir)
    {
        _executable = executable;
        _dataDir = dataDir;
    }

    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>"127.0.0.1:p1,...,127.0.0.1:p6" — the value for <c>ConnectionStrings__Redis</c>.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.Endpoint));

    public static Task<RedisClusterProcess> StartAsync() => StartAsync(FreePort.Next);

    /// <param name="nextPort">Where the nodes' ports come from (the TestKit's test hands it a taken one first).</param>
    public static async Task<RedisClusterProcess> StartAsync(Func<int> nextPort)
    {
        // FreePort can only pick ports that are free now (RedisServerProcess.StartAsync): a node whose
        // port or bus port was taken before it bound exits at once, and the whole start is retried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(nextPort);
            }
            catch (InvalidOperationException ex) when (attempt < MaxStartAttempts && ex.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<RedisClusterProcess> StartOnceAsync(Func<int> nextPort)
    {
        var cluster = new RedisClusterProcess(RequiredTool.Resolve("redis-server"), Directory.CreateTempSubdirectory("roomshare-redis-cluster-").FullName);
        try
        {
            for (var i = 0; i < NodeCount; i++)
            {
                cluster._nodes.Add(cluster.Launch(nextPort(), nextPort()));
            }

            foreach (var node in cluster._nodes)
            {
                await node.WaitForPingAsync();
            }

            var cli = RequiredTool.Resolve("redis-cli");
            var create = ChildProcess.Start(cli,
                ["--cluster", "create", .. cluster._nodes.Select(n => n.Endpoint), "--cluster-replicas", "1", "--cluster-yes"],
                "redis-cli --cluster create");
            using (create)
            {
                if (!await create.WaitForExitAsync(TimeSpan.FromSeconds(60)) || create.ExitCode != 0)
                {
                    throw new InvalidOperationException($"redis-cli --cluster create failed: {create.Describe()}");
                }
            }

            await cluster.WaitUntilHealthyAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Until every running node reports cluster_state:ok, 3 masters with slots and 3 replicas not
    /// failed, and each replica's link to its master is up (so WAIT can count it). Bounded.
    /// </summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? ReadyTimeout);
        var last = "";
        while (true)
        {
            try
            {
                var healthy = true;
                foreach (var node in _nodes.Where(n => n.IsRunning))
                {
                    var info = await node.ExecuteAsync("CLUSTER", "INFO") ?? "";
                    var topology = await node.ClusterNodesAsync();
                    var replication = await node.ExecuteAsync("INFO", "replication") ?? "";
                    var ok = info.Contains("cluster_state:ok", StringComparison.Ordinal)
                        && topology.Count(n => n.IsMaster && n.Slots.Count > 0 && !n.Failed) == 3
                        && topology.Count(n => !n.IsMaster && !n.Failed) == 3
                        && (replication.Contains("role:master", StringComparison.Ordinal) || replication.Contains("master_link_status:up", StringComparison.Ordinal));
                    if (!ok)
                    {
                        healthy = false;
                        last = $"node {node.Port}: {string.Join(" | ", topology)}";
                        break;
                    }
                }

                if (healthy)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                last = ex.Message;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the Redis Cluster did not become healthy (3 masters, 3 linked replicas) in time; last: {last}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>A running node's view of the cluster (CLUSTER NODES), asked of the first node that answers.</summary>
    public async Task<IReadOnlyList<ClusterNodeInfo>> TopologyAsync()
    {
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            try
            {
                return await node.ClusterNodesAsync();
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                // Try the next node.
            }
        }

        throw new InvalidOperationException("no cluster node answers");
    }

    /// <summary>The hash slot of a key, asked of the cluster.</summary>
    public async Task<int> KeySlotAsync(string key) =>
        int.Parse((await _nodes.First(n => n.IsRunning).ExecuteAsync("CLUSTER", "KEYSLOT", key))!, CultureInfo.InvariantCulture);

    /// <summary>A shard channel's subscribers, summed over every running node (<c>PUBSUB SHARDNUMSUB</c>).</summary>
    public async Task<long> ShardSubscribersAsync(string channel)
    {
        var total = 0L;
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            total += await node.ShardSubscribersAsync(channel);
        }

        return total;
    }

    /// <summary>The master node that serves <paramref name="key"/> now.</summary>
    public async Task<Node> MasterOfAsync(string key)
    {
        var slot = await KeySlotAsync(key);
        var master = (await TopologyAsync()).Single(n => n.IsMaster && !n.Failed && n.Slots.Any(r => r.Contains(slot)));
        return NodeAt(master.Port);
    }

    /// <summary>The replica (running, not failed) of the master on <paramref name="masterPort"/>.</summary>
    public async Task<Node> ReplicaOfAsync(int masterPort)
    {
        var topology = await TopologyAsync();
        var masterId = topology.Single(n => n.Port == masterPort).Id;
        return NodeAt(topology.First(n => !n.IsMaster && n.MasterId == masterId && !n.Failed).Port);
    }

    public Node NodeAt(int port) => _nodes.Single(n => n.Port == port);

    /// <summary>
    /// <c>CLUSTER FAILOVER TAKEOVER</c> on a replica whose master is dead: it promotes itself at once,
    /// without waiting for the other masters to agree the master failed. Then waits until it serves.
    /// </summary>
    public static async Task TakeOverAsync(Node replica, TimeSpan timeout)
    {
        await replica.ExecuteAsync("CLUSTER", "FAILOVER", "TAKEOVER");
        var deadline = DateTime.UtcNow + timeout;
        while (await replica.ExecuteListHeadAsync("ROLE") != "master")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"replica {replica.Port} did not become a master within {timeout.TotalSeconds:0}s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Calls per command from <c>INFO commandstats</c> of one node (e.g. "spublish" → 120).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> CommandCallsAsync(Node node)
    {
        var stats = await node.ExecuteAsync("INFO", "commandstats") ?? "";
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in stats.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // cmdstat_spublish:calls=12,usec=...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && line.IndexOf(":calls=", StringComparison.Ordinal) is var at and > 0)
            {
                var end = line.IndexOf(',', at);
                calls[line["cmdstat_".Length..at]] = long.Parse(line[(at + ":calls=".Length)..end], CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // A temp dir left behind is not worth failing a test over.
        }
    }

    private Node Launch(int port, int busPort)
    {
        var dir = Path.Combine(_dataDir, port.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        return new Node(this, port, busPort, dir);
    }

    private ChildProcess StartProcess(Node node)
    {
        string[] arguments =
        [
            "--port", node.Port.ToString(CultureInfo.InvariantCulture),
            "--cluster-port", node.BusPort.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--protected-mode", "no",
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", NodeTimeoutMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--save", string.Empty,
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--dir", node.Directory,
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
        ];
        return ChildProcess.Start(_executable, arguments, $"redis-server cluster node :{node.Port}", workingDirectory: node.Directory);
    }

    /// <summary>One node: its ports, its process (restartable on the same ports and directory), one-shot commands.</summary>
    public sealed class Node : IAsyncDisposable
    {
        private readonly RedisClusterProcess _owner;
        private ChildProcess _process;

        internal Node(RedisClusterProcess owner, int port, int busPort, string directory)
        {
            _owner = owner;
            Port = port;
            BusPort = busPort;
            Directory = directory;
            _process = owner.StartProcess(this);
        }

        public int Port { get; }

        public int BusPort { get; }

        public string Directory { get; }

        public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

        public int Pid => _process.Pid;

        public bool IsRunning => !_process.HasExited;

        /// <summary>SIGKILL: the node crashes (what AOF everysec had not written yet is lost with it).</summary>
        public void Kill() => _process.Kill();

        /// <summary>Starts the node again on its ports and directory: with its nodes.conf it rejoins the cluster.</summary>
        public async Task StartAgainAsync()
        {
            if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"{_process.Name} is still running; kill it first");
            }

            _process.Dispose();
            _process = _owner.StartProcess(this);
            await WaitForPingAsync();
        }

        public async Task<string?> ExecuteAsync(params string[] command)
        {
            var reply = await RespClient.ExecuteAsync(Port, command, CommandTimeout);
            return reply switch
            {
                null => null,
                string s => s,
                long n => n.ToString(CultureInfo.InvariantCulture),
                _ => throw new InvalidOperationException($"unexpected reply to {string.Join(' ', command)}"),
            };
        }

        /// <summary>A shard channel's subscribers on this node (<c>PUBSUB SHARDNUMSUB</c>).</summary>
        public async Task<long> ShardSubscribersAsync(string channel) =>
            Convert.ToInt64(((object?[])(await RespClient.ExecuteAsync(Port, ["PUBSUB", "SHARDNUMSUB", channel], CommandTimeout))!)[1], CultureInfo.InvariantCulture);

        /// <summary>The first element of an array reply (e.g. ROLE → "master"), or "" for none.</summary>
        public async Task<string> ExecuteListHeadAsync(params string[] command) =>
            await RespClient.ExecuteAsync(Port, command, CommandTimeout) is object?[] { Length: > 0 } items && items[0] is string head ? head : "";

        /// <summary>
        /// Whether the node holds <paramref name="key"/>, master or replica alike: SCAN is keyless, so a
        /// replica answers it without redirecting (a one-shot connection cannot say READONLY first).
        /// </summary>
        public async Task<bool> HoldsKeyAsync(string key)
        {
            var cursor = "0";
            for (var round = 0; round < 1000; round++)
            {
                var reply = (object?[])(await RespClient.ExecuteAsync(Port, ["SCAN", cursor, "MATCH", key, "COUNT", "10000"], CommandTimeout))!;
                if (((object?[])reply[1]!).Length > 0)
                {
                    return true;
                }

                cursor = (string)reply[0]!;
                if (cursor == "0")
                {
                    return false;
                }
            }

            throw new InvalidOperationException($"SCAN of {Endpoint} did not finish in 1000 rounds");
        }

        public async Task<IReadOnlyList<ClusterNodeInfo>> ClusterNodesAsync() =>
            ClusterNodeInfo.Parse(await ExecuteAsync("CLUSTER", "NODES") ?? "");

        public async ValueTask DisposeAsync()
        {
            _process.Kill();
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
            _process.Dispose();
        }

        public override string ToString() => $"{Endpoint} (pid {Pid})";

        internal async Task WaitForPingAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            Exception? last = null;
            while (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                {
                    await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
                    throw new InvalidOperationException($"redis-server exited during start-up: {_process.Describe()}");
                }

                try
                {
                    if (await RespClient.ExecuteAsync(Port, ["PING"], TimeSpan.FromSeconds(1)) is "PONG")
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
                {
                    last = ex;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }

            throw new TimeoutException($"cluster node {Port} did not answer PING (last: {last?.Message}): {_process.Describe()}");
        }
    }
}

/// <summary>One line of CLUSTER NODES: <c>id ip:port@bus flags master-id ping pong epoch link slot...</c>.</summary>
public sealed record ClusterNodeInfo(string Id, int Port, bool IsMaster, bool Failed, string MasterId, IReadOnlyList<Range> Slots)
{
    public static IReadOnlyList<ClusterNodeInfo> Parse(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseLine)];

    public override string ToString() =>
        $"{Port} {(IsMaster ? "master" : "replica")}{(Failed ? ",fail" : "")} [{string.Join(' ', Slots.Select(r => $"{r.Start.Value}-{r.End.Value}"))}]";

    private static ClusterNodeInfo ParseLine(string line)
    {
        var fields = line.Split(' ');
        var address = fields[1].Split('@')[0];
        var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        var flags = fields[2].Split(',');
        var slots = fields.Skip(8).Where(f => !f.StartsWith('[')).Select(f =>
        {
            var parts = f.Split('-');
            var start = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return new Range(start, parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : start);
        }).ToList();
        return new ClusterNodeInfo(fields[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), fields[3], slots);
    }
}

public static class SlotRangeExtensions
{
    /// <summary>Inclusive range of hash slots (CLUSTER NODES writes "0-5460").</summary>
    public static bool Contains(this Range range, int slot) => slot >= range.Start.Value && slot <= range.End.Value;
}
