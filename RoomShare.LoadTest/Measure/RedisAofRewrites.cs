using System.Globalization;
using StackExchange.Redis;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// Reads how many AOF rewrites each Redis node has started (<c>INFO</c>), so a step (a write step's window and drain,
/// a join step's joins) can say whether one fell in it. A rewrite forks redis-server and then writes the base file from
/// the child: at ~1 200 changes/s one came about once a minute and held a share of the slowest changes
/// (docs/bench/ab-nginx-workers-aof-rewrite.md). Every
/// node counts, replicas too: on a Redis Cluster a write waits for a replica's acknowledgement
/// (<c>RoomServer__Redis__ReplicasToAcknowledge</c>), which that replica's fork delays. Only a mark: a read that fails
/// leaves the step unmarked (null) and never fails it.
/// </summary>
public sealed class RedisAofRewrites : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly ConnectionMultiplexer _redis;

    private RedisAofRewrites(ConnectionMultiplexer redis) => _redis = redis;

    /// <summary>Connects to the cluster's Redis (<c>REDIS_URL</c>: one node, or a Redis Cluster's); null without one or when it cannot be reached.</summary>
    public static async Task<RedisAofRewrites?> ConnectAsync(string? nodes)
    {
        if (string.IsNullOrWhiteSpace(nodes))
        {
            return null; // embedded mode and the floor have no Redis
        }

        try
        {
            var options = ConfigurationOptions.Parse(nodes);
            options.ClientName = "roomshare-loadtest";
            options.AllowAdmin = true; // StackExchange.Redis counts INFO as an admin command; the tool sends nothing else on this connection
            options.ConnectTimeout = (int)Timeout.TotalMilliseconds;
            options.SyncTimeout = (int)Timeout.TotalMilliseconds;
            options.AsyncTimeout = (int)Timeout.TotalMilliseconds;
            return new RedisAofRewrites(await ConnectionMultiplexer.ConnectAsync(options));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Every node's rewrites so far; null when one of them could not be read.</summary>
    public async Task<AofRewriteSnapshot?> ReadAsync()
    {
        try
        {
            var nodes = await Task.WhenAll(_redis.GetServers().Select(async server =>
                (Endpoint: $"{server.EndPoint}", Info: await server.InfoRawAsync() ?? string.Empty)));
            var readings = new Dictionary<string, AofRewriteReading>(StringComparer.Ordinal);
            foreach (var (endpoint, info) in nodes)
            {
                if (AofRewriteReading.Parse(info) is not { } reading)
                {
                    return null;
                }

                readings[endpoint] = reading;
            }

            return readings.Count == 0 ? null : new AofRewriteSnapshot(readings);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null; // a node down or slow, the connection gone: the step goes unmarked
        }
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();
}

/// <summary>
/// One node's rewrites: those started since it started (<c>aof_rewrites</c>, counted as the fork is made) and whether one
/// is running now (<c>aof_rewrite_in_progress</c>). <see cref="RunId"/> tells a restarted node (its counters from 0) apart.
/// </summary>
public readonly record struct AofRewriteReading(string RunId, long Started, int InProgress)
{
    /// <summary>From an <c>INFO</c> reply (its default sections); null when it lacks a field (Redis before 7.0 has no <c>aof_rewrites</c>).</summary>
    public static AofRewriteReading? Parse(string info)
    {
        string? runId = null;
        long? started = null;
        int? inProgress = null;
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.Split(':', 2) is not [var key, var value])
            {
                continue;
            }

            switch (key)
            {
                case "run_id":
                    runId = value;
                    break;
                case "aof_rewrites" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s):
                    started = s;
                    break;
                case "aof_rewrite_in_progress" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p):
                    inProgress = p;
                    break;
            }
        }

        return runId is { Length: > 0 } && started is { } begun && inProgress is { } running ? new AofRewriteReading(runId, begun, running) : null;
    }

    /// <summary>
    /// The rewrites of one node that overlapped the time between two readings: those started between them, and the one
    /// running at the first (still running, or done since). Null if the node restarted in between.
    /// </summary>
    public static int? Overlapping(AofRewriteReading start, AofRewriteReading end) =>
        start.RunId == end.RunId && end.Started >= start.Started ? (int)(end.Started - start.Started) + start.InProgress : null;
}

/// <summary>Every node's <see cref="AofRewriteReading"/> at one moment, by endpoint.</summary>
public sealed record AofRewriteSnapshot(IReadOnlyDictionary<string, AofRewriteReading> Nodes)
{
    /// <summary>
    /// The rewrites that overlapped the time between two snapshots, summed over the nodes; null if either is unknown
    /// or they do not cover the same nodes, each the same run (a node restarted, joined or left meanwhile).
    /// </summary>
    public static int? Overlapping(AofRewriteSnapshot? start, AofRewriteSnapshot? end)
    {
        if (start is null || end is null || start.Nodes.Count != end.Nodes.Count)
        {
            return null;
        }

        var total = 0;
        foreach (var (endpoint, before) in start.Nodes)
        {
            if (!end.Nodes.TryGetValue(endpoint, out var after) || AofRewriteReading.Overlapping(before, after) is not { } overlapping)
            {
                return null;
            }

            total += overlapping;
        }

        return total;
    }
}
