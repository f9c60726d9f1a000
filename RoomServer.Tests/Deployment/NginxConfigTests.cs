using System.Text.RegularExpressions;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>The nginx configs parse, and production routes by the affinity cookie (DESIGN.md §7).</summary>
public sealed class NginxConfigTests
{
    private static readonly string[] TempPathKinds = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];

    private static string NginxDir => Path.Combine(RepoPaths.RepoRoot, "nginx");

    [Fact]
    public async Task GeneratedLoopbackConfigPassesNginxTest()
    {
        var prefix = Directory.CreateTempSubdirectory("roomshare-nginx-t-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            Directory.CreateDirectory(Path.Combine(prefix, "temp"));
            var config = NginxProcess.RenderConfig(prefix, 18080, [new Uri("http://127.0.0.1:18081"), new Uri("http://127.0.0.1:18082")]);
            var configPath = Path.Combine(prefix, "nginx.conf");
            await File.WriteAllTextAsync(configPath, config);

            var (exitCode, output) = await NginxTestAsync(prefix, configPath);

            exitCode.Should().Be(0, $"nginx -t must accept the loopback config:\n{output}\n{config}");
            config.Should().Contain("hash $rs_affinity consistent;")
                .And.Contain("server 127.0.0.1:18081 max_fails=1 fail_timeout=2s;")
                .And.Contain("server 127.0.0.1:18082 max_fails=1 fail_timeout=2s;")
                .And.Contain("upstream roomserver_held {")
                .And.Contain("server 127.0.0.1:18081 max_fails=0;")
                .And.Contain("server 127.0.0.1:18082 max_fails=0;")
                .And.Contain($"include \"{NginxDir}/roomshare-http.conf\";")
                .And.Contain($"include \"{NginxDir}/roomshare-locations.conf\";")
                .And.NotMatchRegex("@[A-Z_]+@", "every placeholder is replaced");
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Fact]
    public async Task ProductionConfigPassesNginxTestWithDockerDnsSwappedForLoopback()
    {
        // Debian's nginx 1.22 predates `resolve` (open source since 1.27.3) and cannot resolve the
        // compose service name, so those two parts are swapped out; everything else is tested as shipped.
        var prefix = Directory.CreateTempSubdirectory("roomshare-nginx-prod-").FullName;
        try
        {
            foreach (var file in new[] { "nginx.conf", "roomshare-http.conf", "roomshare-locations.conf" })
            {
                File.Copy(Path.Combine(NginxDir, file), Path.Combine(prefix, file));
            }

            var configPath = Path.Combine(prefix, "nginx.conf");
            var production = await File.ReadAllTextAsync(configPath);
            var tempPaths = string.Join(' ', TempPathKinds.Select(kind => $"{kind}_temp_path {prefix}/temp-{kind};"));
            var testable = production
                .Replace("server roomserver:8080 resolve ", "server 127.0.0.1:8080 ", StringComparison.Ordinal)
                .Replace("\nhttp {\n", $"\nhttp {{\n    {tempPaths}\n", StringComparison.Ordinal);
            testable.Should().NotBe(production, "the swap must have matched the production file");
            await File.WriteAllTextAsync(configPath, testable);

            var (exitCode, output) = await NginxTestAsync(prefix, configPath, "-g", $"pid {prefix}/nginx.pid;");

            exitCode.Should().Be(0, $"nginx -t must accept nginx/nginx.conf:\n{output}");
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Fact]
    public void ProductionConfigHashesOnTheAffinityCookiePerResolvedReplicaAndNeverUsesIpHash()
    {
        var production = Directives(Path.Combine(NginxDir, "nginx.conf"));
        var shared = Directives(Path.Combine(NginxDir, "roomshare-http.conf")) + Directives(Path.Combine(NginxDir, "roomshare-locations.conf"));

        (production + shared).Should().NotContain("ip_hash", "ip_hash hashes three octets only (DESIGN.md §7)");
        // One server name resolving to N replicas: a consistent ring is keyed by the name, so nginx would
        // round-robin among its addresses and break negotiate/connect affinity (nginx/nginx#523).
        production.Should().Contain("hash $rs_affinity;")
            .And.NotContain("hash $rs_affinity consistent", "all replicas share one server name in production")
            .And.Contain("server roomserver:8080 resolve", "scaled replicas are found through Docker DNS")
            .And.Contain("resolver 127.0.0.11")
            .And.MatchRegex(@"zone roomserver \d+k;")
            .And.MatchRegex(@"upstream roomserver_held \{\s*zone roomserver_held \d+k;\s*hash \$rs_affinity;\s*server roomserver:8080 resolve max_fails=0;\s*keepalive 64;")
            .And.Contain("include roomshare-http.conf;")
            .And.Contain("include roomshare-locations.conf;")
            .And.Contain("worker_connections 16384;")
            .And.Contain("error_log /dev/stderr crit;", "error-level lines quote the request line, and hub URLs carry a token");
        shared.Should().Contain("map $cookie_rs_affinity $rs_affinity_client {")
            .And.Contain("map $arg_room $rs_affinity_hint {")
            .And.Contain("map $http_authorization $rs_affinity_bearer {")
            .And.Contain("map $arg_access_token $rs_affinity {")
            .And.Contain("add_header Set-Cookie $rs_affinity_set_cookie always;")
            .And.Contain("proxy_next_upstream         error timeout;")
            .And.Contain("proxy_next_upstream error timeout http_503 http_404 non_idempotent;")
            .And.Contain("map \"$http_upgrade|$arg_id\" $rs_hub_upstream {")
            .And.Contain("proxy_pass http://$rs_hub_upstream;")
            .And.Contain("location ~* ^/metrics(/|$)")
            .And.Contain("proxy_read_timeout  1h;")
            .And.Contain("proxy_set_header Connection        $connection_upgrade;");
    }

    [Fact]
    public void TheApiWaitsForAReplicaLongerThanFiveStoreCallsAtTheLongestDeadline()
    {
        var locations = Directives(Path.Combine(NginxDir, "roomshare-locations.conf"));
        var api = Regex.Match(locations, @"location /api/ \{(?<body>[^}]*)\}");
        api.Success.Should().BeTrue();
        var timeout = Regex.Match(api.Groups["body"].Value, @"proxy_read_timeout\s+(\d+)s;");
        timeout.Success.Should().BeTrue("nginx's default 60 s is one store call at the longest deadline the settings allow");
        var longestDeadline = typeof(RoomServerOptions).GetProperty(nameof(RoomServerOptions.StoreTimeoutMilliseconds))!
            .GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), false).Cast<System.ComponentModel.DataAnnotations.RangeAttribute>().Single().Maximum;
        int.Parse(timeout.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).Should()
            .BeGreaterThanOrEqualTo(5 * Convert.ToInt32(longestDeadline, System.Globalization.CultureInfo.InvariantCulture) / 1000);
    }

    [Fact]
    public void ProductionConfigEndsOldWorkersWebSocketsWithinComposesStopGrace()
    {
        var directives = Directives(Path.Combine(RepoPaths.RepoRoot, "nginx", "nginx.conf"));

        var timeout = Regex.Match(directives, @"^worker_shutdown_timeout\s+(\d+)s;", RegexOptions.Multiline);
        timeout.Success.Should().BeTrue("without it a stop or a reload waits for every WebSocket, which never closes on its own");
        int.Parse(timeout.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(10, "compose kills a container 10 s after asking it to stop");
    }

    [Fact]
    public void ComposePinsAnNginxImageThatSupportsResolve()
    {
        var compose = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "docker-compose.yml"));

        var image = Regex.Match(compose, @"image:\s*nginx:(\d+)\.(\d+)");
        image.Success.Should().BeTrue("the nginx image is pinned to a minor version");
        var version = new Version(int.Parse(image.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(image.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        version.Should().BeGreaterThanOrEqualTo(new Version(1, 28), "`resolve` in an upstream needs open-source nginx 1.27.3+ (1.28 is the first stable)");
    }

    private static Task<(int ExitCode, string Output)> NginxTestAsync(string prefix, string configPath, params string[] extra) =>
        NginxProcess.RunAsync(
            RequiredTool.Resolve("nginx"),
            ["-t", "-p", prefix, "-e", Path.Combine(prefix, "error.log"), "-c", configPath, .. extra],
            CancellationToken.None);

    /// <summary>The file without comments, so prose about ip_hash does not count as using it.</summary>
    private static string Directives(string path) =>
        string.Join('\n', File.ReadAllLines(path).Select(line => line.Split('#')[0]));
}
