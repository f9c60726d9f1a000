using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// eng/redis-cluster.sh end to end: `up` starts 3 masters + 3 replicas and joins them into one healthy
/// cluster, `status` shows each node's role, `down` stops exactly the processes it recorded. And
/// eng/cluster.sh with <c>ROOMSHARE_CLUSTER_STORE=redis-cluster</c> puts its replica on such a cluster.
/// </summary>
public sealed class RedisClusterScriptTests : IAsyncLifetime
{
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), $"roomshare-rcluster-{Guid.NewGuid():N}");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // A failed test must not leave nodes running: both `down`s are idempotent.
        if (Directory.Exists(Path.Combine(_stateDir, "rc")))
        {
            await RunAsync("redis-cluster.sh", "down");
        }

        if (Directory.Exists(Path.Combine(_stateDir, "cs")))
        {
            await RunAsync("cluster.sh", "down");
        }

        if (Directory.Exists(_stateDir) && !Directory.EnumerateFileSystemEntries(_stateDir).Any())
        {
            Directory.Delete(_stateDir);
        }
    }

    [Fact]
    public async Task UpStartsThreeMastersAndThreeReplicasInOneHealthyClusterAndDownStopsEveryNode()
    {
        var (upExit, upOutput) = await RunAsync("redis-cluster.sh", "up");
        upExit.Should().Be(0, $"eng/redis-cluster.sh up must succeed:\n{upOutput}");

        var state = Path.Combine(_stateDir, "rc");
        var env = ReadEnv(Path.Combine(state, "cluster.env"));
        var nodes = env["NODES"].Split(',');
        nodes.Should().HaveCount(6).And.OnlyContain(n => n.StartsWith("127.0.0.1:", StringComparison.Ordinal));
        upOutput.Should().Contain("ConnectionStrings__Redis=" + env["NODES"]);

        var ports = nodes.Select(n => int.Parse(n.Split(':')[1], CultureInfo.InvariantCulture)).ToList();
        var topology = ClusterNodeInfo.Parse((string)(await RespClient.ExecuteAsync(ports[0], ["CLUSTER", "NODES"], TimeSpan.FromSeconds(5)))!);
        topology.Where(n => n.IsMaster && n.Slots.Count > 0).Should().HaveCount(3);
        topology.Where(n => !n.IsMaster).Should().HaveCount(3).And.OnlyContain(r => topology.Any(m => m.IsMaster && m.Id == r.MasterId));
        ((string)(await RespClient.ExecuteAsync(ports[^1], ["CLUSTER", "INFO"], TimeSpan.FromSeconds(5)))!).Should().Contain("cluster_state:ok");

        var (statusExit, statusOutput) = await RunAsync("redis-cluster.sh", "status");
        statusExit.Should().Be(0, statusOutput);
        statusOutput.Split('\n').Count(l => l.Contains("running", StringComparison.Ordinal) && l.EndsWith("master", StringComparison.Ordinal)).Should().Be(3, statusOutput);
        statusOutput.Split('\n').Count(l => l.Contains("running", StringComparison.Ordinal) && l.EndsWith("slave", StringComparison.Ordinal)).Should().Be(3, statusOutput);

        var pids = Recorded(Path.Combine(state, "procs"));
        pids.Should().HaveCount(6);
        var (downExit, downOutput) = await RunAsync("redis-cluster.sh", "down");
        downExit.Should().Be(0, downOutput);
        Directory.Exists(state).Should().BeFalse("down removes the state dir");
        foreach (var (name, pid, startTime) in pids)
        {
            StartTimeOf(pid).Should().NotBe(startTime, $"{name} (pid {pid}) must be stopped by down");
        }
    }

    [Fact]
    public async Task ClusterScriptPutsItsReplicaOnARedisClusterWhenAsked()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var (upExit, upOutput) = await RunAsync("cluster.sh", "up", "1", "--no-build", "--configuration", configuration);
        upExit.Should().Be(0, $"ROOMSHARE_CLUSTER_STORE=redis-cluster eng/cluster.sh up must succeed:\n{upOutput}");

        var state = Path.Combine(_stateDir, "cs");
        var env = ReadEnv(Path.Combine(state, "cluster.env"));
        env["STORE"].Should().Be("redis-cluster");
        env["REDIS_URL"].Split(',').Should().HaveCount(6, "the replica's ConnectionStrings__Redis names the six cluster nodes");
        var nodePids = Recorded(Path.Combine(state, "redis-cluster", "procs"));
        nodePids.Should().HaveCount(6);
        var otherPids = Recorded(Path.Combine(state, "procs"));
        otherPids.Select(p => p.Name).Should().BeEquivalentTo(["r1", "nginx"], "no single redis-server is started");

        using var http = new HttpClient { BaseAddress = new Uri(env["BASE_URL"]), Timeout = TimeSpan.FromSeconds(10) };
        using (var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        http.DefaultRequestHeaders.Add("X-Api-Key", env["API_KEY"]);
        using (var created = await http.PostAsJsonAsync("/api/rooms", new { name = "On the cluster", menu = new[] { new { id = "pizza", name = "Pizza", priceMinor = 1200 } } }))
        {
            created.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        var (downExit, downOutput) = await RunAsync("cluster.sh", "down");
        downExit.Should().Be(0, downOutput);
        Directory.Exists(state).Should().BeFalse();
        foreach (var (name, pid, startTime) in nodePids.Concat(otherPids))
        {
            StartTimeOf(pid).Should().NotBe(startTime, $"{name} (pid {pid}) is stopped by eng/cluster.sh down");
        }
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string script, params string[] arguments)
    {
        var root = RepoPaths.RepoRoot;
        return await ProcessRunner.RunAsync(
            Path.Combine(root, "eng", script),
            arguments,
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["ROOMSHARE_REDIS_CLUSTER_DIR"] = Path.Combine(_stateDir, "rc"),
                ["ROOMSHARE_REDIS_CLUSTER_BASE_PORT"] = null,
                ["ROOMSHARE_CLUSTER_DIR"] = Path.Combine(_stateDir, "cs"),
                ["ROOMSHARE_CLUSTER_STORE"] = "redis-cluster",
                ["ROOMSHARE_API_KEY"] = null,
                ["ROOMSHARE_JWT_SIGNING_KEY"] = null,
            },
            TimeSpan.FromSeconds(120),
            root);
    }

    private static Dictionary<string, string> ReadEnv(string path) =>
        File.ReadAllLines(path)
            .Where(line => line.Contains('=', StringComparison.Ordinal))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);

    private static List<(string Name, int Pid, string StartTime)> Recorded(string procs) =>
        File.ReadAllLines(procs)
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]))
            .ToList();

    private static string? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
