using System.Globalization;
using StackExchange.Redis;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// Reads how many AOF rewrites Redis has done (<c>INFO</c> on every primary), so a write step can say
/// whether one fell in its window. A rewrite forks redis-server and then writes the base file from the child: at
/// ~1 200 changes/s one came about once a minute and held a share of the slowest changes
/// (docs/bench/ab-nginx-workers-aof-rewrite.md). Only a mark: a read that fails leaves the step unmarked (null)
/// and never fails it.
/// </summary>
public sealed class RedisAofRewrites : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly ConnectionMultiplexer _redis;

    private RedisAofRewrites(ConnectionMultiplexer redis) => _redis = redis;

    /// <summary>Connects to the cluster's Redis (<c>REDIS_URL</c>: one node, or a Redis Cluster's); null without one or when it does not answer.</summary>
    public static async Task<RedisAofRewrites?> ConnectAsync(string? nodes)
    {
        if (string.IsNullOrWhiteSpace(nodes))
        {
            return null; // embedded mode and the floor have no Redis
        }

        var options = ConfigurationOptions.Parse(nodes);
        options.ClientName = "roomshare-loadtest";
        options.AllowAdmin = true; // StackExchange.Redis counts INFO as an admin command; this connection sends nothing else
        options.ConnectTimeout = (int)Timeout.TotalMilliseconds;
        options.SyncTimeout = (int)Timeout.TotalMilliseconds;
        options.AsyncTimeout = (int)Timeout.TotalMilliseconds;
        try
        {
            return new RedisAofRewrites(await ConnectionMultiplexer.ConnectAsync(options));
        }
        catch (RedisException)
        {
            return null;
        }
    }

    /// <summary>The primaries' rewrites so far; null when one of them could not be read.</summary>
    public async Task<AofRewriteReading?> ReadAsync()
    {
        try
        {
            // Each node's own INFO says whether it is a replica (a replica's rewrite stalls no write): the
            // multiplexer's view of the roles can lag a node's start.
            var infos = await Task.WhenAll(_redis.GetServers()
                .Where(server => server.IsConnected)
                .Select(async server => await server.InfoRawAsync() ?? string.Empty));
            var readings = infos.Where(info => !AofRewriteReading.IsReplica(info)).Select(AofRewriteReading.Parse).ToList();
            return readings.Count == 0 || readings.Any(r => r is null)
                ? null
                : new AofRewriteReading(readings.Sum(r => r!.Value.Completed), readings.Sum(r => r!.Value.InProgress));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();
}

/// <summary>Rewrites completed since Redis started (<c>aof_rewrites</c>) and those running now (<c>aof_rewrite_in_progress</c>).</summary>
public readonly record struct AofRewriteReading(long Completed, int InProgress)
{
    /// <summary>Whether an <c>INFO</c> reply (its default sections) is a replica's.</summary>
    public static bool IsReplica(string info) =>
        info.Split('\n', StringSplitOptions.TrimEntries).Contains("role:slave", StringComparer.Ordinal);

    /// <summary>From an <c>INFO</c> reply (its default sections, or just <c>persistence</c>); null when it lacks either field (Redis before 7.0 has no <c>aof_rewrites</c>).</summary>
    public static AofRewriteReading? Parse(string info)
    {
        long? completed = null;
        int? inProgress = null;
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.Split(':', 2) is [var key, var value])
            {
                if (key == "aof_rewrites" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c))
                {
                    completed = c;
                }
                else if (key == "aof_rewrite_in_progress" && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                {
                    inProgress = p;
                }
            }
        }

        return completed is { } done && inProgress is { } running ? new AofRewriteReading(done, running) : null;
    }

    /// <summary>
    /// The rewrites that overlapped the time between two readings: those completed between them, and those still
    /// running at the second (one running at the first and done by the second is among the completed). Null if either is unknown.
    /// </summary>
    public static int? Overlapping(AofRewriteReading? start, AofRewriteReading? end) =>
        start is { } s && end is { } e ? (int)(e.Completed - s.Completed) + e.InProgress : null;
}
