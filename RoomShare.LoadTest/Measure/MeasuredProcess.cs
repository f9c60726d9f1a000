using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Measure;

/// <summary>What a measured process is, for sums: µs per event is summed over the replicas, say.</summary>
public enum ProcessKind
{
    Replica,
    Nginx,
    Redis,
    Generator,
}

/// <summary>One process whose CPU and memory a run reports, e.g. "r1" (Replica) or "nginx worker 1" (Nginx).</summary>
public sealed record MeasuredProcess(string Name, ProcessKind Kind, int Pid)
{
    /// <summary>Every replica, nginx's master and workers, redis-server (when there is one) and this generator.</summary>
    public static IReadOnlyList<MeasuredProcess> Of(ClusterInfo cluster)
    {
        var processes = cluster.Replicas.Select(r => new MeasuredProcess(r.Name, ProcessKind.Replica, r.Pid)).ToList();
        processes.Add(new MeasuredProcess("nginx master", ProcessKind.Nginx, cluster.NginxPid));
        processes.AddRange(ProcFs.ChildrenOf(cluster.NginxPid).Select((pid, i) => new MeasuredProcess($"nginx worker {i + 1}", ProcessKind.Nginx, pid)));
        if (cluster.RedisPid is { } redis)
        {
            processes.Add(new MeasuredProcess("redis-server", ProcessKind.Redis, redis));
        }

        processes.AddRange(cluster.RedisClusterPids.Select((pid, i) => new MeasuredProcess($"redis node {i + 1}", ProcessKind.Redis, pid)));

        processes.Add(new MeasuredProcess("generator", ProcessKind.Generator, Environment.ProcessId));
        return processes;
    }
}
