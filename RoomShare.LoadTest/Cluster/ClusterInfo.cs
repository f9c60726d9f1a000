namespace RoomShare.LoadTest.Cluster;

/// <summary>
/// What eng/cluster.sh wrote to its state dir's cluster.env: where to connect and which pids it started.
/// <see cref="RedisNodes"/>: the Redis the RoomServer replicas use (REDIS_URL: one node, or a Redis Cluster's nodes), null
/// in embedded mode and for the floor.
/// </summary>
public sealed record ClusterInfo(
    Uri BaseUrl,
    string ApiKey,
    IReadOnlyList<(string Name, int Pid)> Replicas,
    int NginxPid,
    int? RedisPid,
    IReadOnlyList<int> RedisClusterPids,
    string? RedisNodes = null)
{
    public static ClusterInfo Read(string clusterEnvPath)
    {
        var values = File.ReadAllLines(clusterEnvPath)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        string Required(string key) => values.TryGetValue(key, out var value) && value.Length > 0
            ? value
            : throw new InvalidOperationException($"{clusterEnvPath} has no {key}");

        var replicas = Required("REPLICA_PIDS").Split(',')
            .Select(entry => entry.Split(':', 2))
            .Select(parts => (parts[0], ParsePid(parts[1])))
            .ToList();
        var redis = values.GetValueOrDefault("REDIS_PID");
        return new ClusterInfo(
            new Uri(Required("BASE_URL")),
            Required("API_KEY"),
            replicas,
            ParsePid(Required("NGINX_PID")),
            string.IsNullOrEmpty(redis) ? null : ParsePid(redis),
            [.. values.GetValueOrDefault("REDIS_CLUSTER_PIDS", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParsePid)],
            values.GetValueOrDefault("REDIS_URL") is { Length: > 0 } nodes ? nodes : null);
    }

    private static int ParsePid(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
