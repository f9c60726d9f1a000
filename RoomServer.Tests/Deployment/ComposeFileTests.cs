using System.Text.RegularExpressions;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// docker-compose.yml resolves (`docker-compose config`, no Docker engine needed) into the cluster of
/// DESIGN.md §1: durable Redis, scalable replicas with a readiness check, nginx as the only entry point.
/// The resolved YAML is read as text, per service block; no YAML package.
/// </summary>
public sealed partial class ComposeFileTests
{
    private const string InstallCommand = "apt-get install -y docker-compose";

    private static readonly Dictionary<string, string?> Secrets = new(StringComparer.Ordinal)
    {
        ["ROOMSHARE_API_KEY"] = "compose-test-api-key",
        ["ROOMSHARE_JWT_SIGNING_KEY"] = "compose-test-signing-key-0123456789abcdef",
        ["ROOMSHARE_PORT"] = null,
        ["ROOMSHARE_CLUSTER_PORT"] = null,
        ["ROOMSHARE_ENV_FILE"] = null,
    };

    [Fact]
    public async Task ComposeConfigResolvesWithTheRequiredSecrets()
    {
        var (exitCode, output) = await ComposeConfigAsync(Secrets);

        exitCode.Should().Be(0, $"docker-compose config must accept docker-compose.yml:\n{output}");
        var services = Services(output);
        services.Where(s => !s.Value.Contains("profiles:", StringComparison.Ordinal)).Select(s => s.Key)
            .Should().BeEquivalentTo(["redis", "roomserver", "nginx"], "`docker compose up` starts exactly these");
        services.Where(s => s.Value.Contains("profiles:", StringComparison.Ordinal)).Select(s => s.Key).Should().BeEquivalentTo(
            ["redis-node-1", "redis-node-2", "redis-node-3", "redis-node-4", "redis-node-5", "redis-node-6", "redis-cluster-create", "roomserver-cluster", "nginx-cluster"],
            "the rest is the `cluster` profile");
    }

    [Fact]
    public async Task TheClusterProfileRunsSixClusterNodesWithAppendOnlyFilesOnTheirOwnVolumes()
    {
        var services = Services(await ResolvedConfigAsync());

        for (var i = 1; i <= 6; i++)
        {
            services[$"redis-node-{i}"].Should().MatchRegex(@"profiles:\s+- cluster")
                .And.MatchRegex(@"- --cluster-enabled\s+- ['""]?yes['""]?")
                .And.MatchRegex(@"- --appendonly\s+- ['""]?yes['""]?")
                .And.MatchRegex(@"- --maxmemory-policy\s+- noeviction")
                .And.Contain($"redis-node-{i}-data:/data")
                .And.Contain("redis-cli")
                .And.NotMatchRegex(@"(?m)^\s+ports:", "cluster nodes are reached on the compose network only");
        }
    }

    [Fact]
    public async Task TheClusterProfileCreatesTheClusterOnceAndPointsItsOwnReplicasAndNginxAtIt()
    {
        var services = Services(await ResolvedConfigAsync());

        services["redis-cluster-create"].Should().Contain("--cluster create").And.Contain("--cluster-replicas 1").And.Contain("--cluster-yes")
            .And.Contain("grep -qx cluster_known_nodes:1").And.Contain("grep -qx cluster_slots_assigned:0").And.Contain("^cluster_state:",
                "only a fresh node 1 is joined into a cluster: a restart of the stack, with the cluster not ok yet (a node loading, a failover), does not try to create it again")
            .And.MatchRegex(@"redis-node-6:\s+condition: service_healthy");
        foreach (var redis in new[] { "redis", "redis-node-1", "redis-node-6" })
        {
            services[redis].Should().Contain("redis-cli ping | grep -q PONG", "redis-cli exits 0 on an error reply too: a node still loading its AOF is not healthy");
        }

        services["roomserver-cluster"].Should().MatchRegex(
                @"ConnectionStrings__Redis: ['""]?redis-node-1:6379,redis-node-2:6379,redis-node-3:6379,redis-node-4:6379,redis-node-5:6379,redis-node-6:6379",
                "the replicas name every node; the store detects the cluster")
            .And.MatchRegex(@"redis-cluster-create:\s+condition: service_completed_successfully")
            .And.MatchRegex(@"aliases:\s+- roomserver", "on its network the cluster stack's replicas answer to the name nginx.conf uses")
            .And.Contain("/readyz")
            .And.NotMatchRegex(@"(?m)^\s+ports:");
        services["nginx-cluster"].Should().MatchRegex(@"published: ['""]?8081['""]?", "ROOMSHARE_CLUSTER_PORT defaults to 8081")
            .And.Contain("/etc/nginx/nginx.conf:ro")
            .And.MatchRegex(@"roomserver-cluster:\s+condition: service_healthy")
            .And.MatchRegex(@"networks:\s+redis-cluster", "only the cluster stack's network: `roomserver` there is roomserver-cluster");
        services["roomserver"].Should().NotContain("redis-cluster", "the default stack stays on its single Redis");
    }

    [Fact]
    public async Task RedisKeepsAnAppendOnlyFileOnAVolumeAndNeverEvicts()
    {
        var redis = Services(await ResolvedConfigAsync())["redis"];

        redis.Should().MatchRegex(@"- --appendonly\s+- ['""]?yes['""]?", "AOF keeps acknowledged writes across a Redis crash")
            .And.MatchRegex(@"- --appendfsync\s+- everysec")
            .And.MatchRegex(@"- --maxmemory-policy\s+- noeviction")
            .And.MatchRegex(@"- --maxmemory\s+- 1gb", "noeviction means nothing without a limit: Redis would grow until the host kills it")
            .And.MatchRegex(@"redis-data:/data")
            .And.Contain("redis-cli");
    }

    [Fact]
    public async Task RoomServerHasNoFixedHostPortAndAReadinessHealthcheck()
    {
        var roomserver = Services(await ResolvedConfigAsync())["roomserver"];

        roomserver.Should().NotMatchRegex(@"(?m)^\s+ports:", "a fixed host port breaks `--scale roomserver=3`")
            .And.NotContain("published")
            .And.Contain("healthcheck:")
            .And.Contain("/readyz")
            .And.MatchRegex(@"ConnectionStrings__Redis: ['""]?redis:6379")
            .And.Contain("RoomServer__ApiKeys__0: compose-test-api-key")
            .And.Contain("RoomServer__Jwt__SigningKey: compose-test-signing-key-0123456789abcdef")
            .And.MatchRegex(@"redis:\s+condition: service_healthy")
            .And.Contain("dockerfile: RoomServer/Dockerfile")
            .And.Contain("stop_grace_period");
    }

    [Fact]
    public async Task TheReplicasTakeTheirOtherSettingsFromTheSettingsFileAndTheComposeFilesOwnWin()
    {
        var tempDir = Directory.CreateTempSubdirectory("roomshare-settings-").FullName;
        try
        {
            var settings = Path.Combine(tempDir, "settings.env");
            await File.WriteAllTextAsync(settings, "RoomServer__Webhooks__Endpoints__0__Url=https://kitchen.example/roomshare\nRoomServer__DrainSeconds=99\n");
            var (exitCode, output) = await ComposeConfigAsync(new Dictionary<string, string?>(Secrets, StringComparer.Ordinal) { ["ROOMSHARE_ENV_FILE"] = settings });

            exitCode.Should().Be(0, output);
            var services = Services(output);
            foreach (var replica in new[] { "roomserver", "roomserver-cluster" })
            {
                services[replica].Should().Contain("RoomServer__Webhooks__Endpoints__0__Url: https://kitchen.example/roomshare", $"{replica} reads the settings file")
                    .And.MatchRegex(@"RoomServer__DrainSeconds: ['""]?20['""]?", "what docker-compose.yml sets itself wins");
            }

            var byDefault = Services(await ResolvedConfigAsync());
            byDefault["roomserver"].Should().NotContain("Webhooks", "deploy/roomserver.env, the default, sets nothing");
        }
        finally
        {
            Directory.Delete(tempDir, recursive: true);
        }
    }

    [Fact]
    public async Task ComposeWaitsLongerForAReplicaToStopThanItsDrainTakes()
    {
        var services = Services(await ResolvedConfigAsync());

        foreach (var replica in new[] { "roomserver", "roomserver-cluster" })
        {
            var drain = Regex.Match(services[replica], @"RoomServer__DrainSeconds: ['""]?(\d+)['""]?");
            var grace = Regex.Match(services[replica], @"stop_grace_period: (\d+)s");
            (drain.Success, grace.Success).Should().Be((true, true), services[replica]);
            int.Parse(grace.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(
                int.Parse(drain.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 5,
                $"{replica}: compose kills a replica still draining at its stop_grace_period; the drain exits within DrainSeconds");
        }
    }

    [Fact]
    public async Task NginxIsTheOnlyPublishedEntryPointAndMountsTheSharedRules()
    {
        var nginx = Services(await ResolvedConfigAsync())["nginx"];

        nginx.Should().MatchRegex(@"published: ['""]?8080['""]?", "ROOMSHARE_PORT defaults to 8080")
            .And.MatchRegex(@"target: 80\b")
            .And.Contain("/etc/nginx/nginx.conf:ro")
            .And.Contain("/etc/nginx/roomshare-http.conf:ro")
            .And.Contain("/etc/nginx/roomshare-locations.conf:ro")
            .And.MatchRegex(@"roomserver:\s+condition: service_healthy");
    }

    [Fact]
    public async Task ComposeRefusesToStartWithoutTheSecrets()
    {
        var (exitCode, output) = await ComposeConfigAsync(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ROOMSHARE_API_KEY"] = null,
            ["ROOMSHARE_JWT_SIGNING_KEY"] = null,
        });

        exitCode.Should().NotBe(0, "production replicas must never start with a default key");
        output.Should().Contain("ROOMSHARE_API_KEY");
    }

    private static async Task<string> ResolvedConfigAsync()
    {
        var (exitCode, output) = await ComposeConfigAsync(Secrets);
        exitCode.Should().Be(0, $"docker-compose config failed:\n{output}");
        return output;
    }

    private static async Task<(int ExitCode, string Output)> ComposeConfigAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var root = RepoPaths.RepoRoot;
        var composeFile = Path.Combine(root, "docker-compose.yml");
        // An empty env file: a developer's own .env in the repo root must not change the result.
        var tempDir = Directory.CreateTempSubdirectory("roomshare-compose-").FullName;
        try
        {
            var emptyEnvFile = Path.Combine(tempDir, "empty.env");
            await File.WriteAllTextAsync(emptyEnvFile, string.Empty);
            return await ProcessRunner.RunAsync(
                FindDockerCompose(),
                ["--project-directory", root, "--env-file", emptyEnvFile, "-f", composeFile, "config"],
                environment,
                TimeSpan.FromSeconds(30));
        }
        finally
        {
            Directory.Delete(tempDir, recursive: true);
        }
    }

    private static string FindDockerCompose()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "docker-compose"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"docker-compose is not installed: run `{InstallCommand}` (./eng/test.sh installs it)");
    }

    /// <summary>Each top-level service's block of the resolved YAML, by name.</summary>
    private static Dictionary<string, string> Services(string resolved)
    {
        var services = new Dictionary<string, string>(StringComparer.Ordinal);
        var inServices = false;
        string? current = null;
        var block = new List<string>();
        foreach (var line in resolved.Split('\n'))
        {
            if (!line.StartsWith(' ') && line.Length > 0)
            {
                Flush();
                inServices = line.TrimEnd() == "services:";
                continue;
            }

            if (!inServices)
            {
                continue;
            }

            var name = ServiceHeader().Match(line);
            if (name.Success)
            {
                Flush();
                current = name.Groups[1].Value;
                continue;
            }

            block.Add(line);
        }

        Flush();
        return services;

        void Flush()
        {
            if (current is not null)
            {
                services[current] = string.Join('\n', block);
            }

            current = null;
            block.Clear();
        }
    }

    [GeneratedRegex(@"^  ([A-Za-z0-9_.-]+):\s*$")]
    private static partial Regex ServiceHeader();
}
