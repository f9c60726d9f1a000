using System.Globalization;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Browser;

/// <summary>
/// Runs a browser driver of tests/js/browser (kit.mjs's environment): the server's URL and API key, Debian's chromium
/// (never a downloaded browser) and the screenshots folder, plus the cluster's replica lists for the drivers that open
/// a page on one replica or stop one (replicas.mjs).
/// </summary>
internal static class ChromiumDriver
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>Where the drivers save their mobile screenshots (artifacts/screenshots).</summary>
    public static string ScreenshotDir { get; } = Path.Combine(RepoPaths.RepoRoot, "artifacts", "screenshots");

    public static Task<NodeResult> RunAsync(string script, Uri baseUrl, string apiKey) =>
        RunAsync(script, Environment(baseUrl, apiKey));

    /// <summary>
    /// Against a cluster: through its nginx, with REPLICA_PIDS and REPLICA_URLS as eng/cluster.sh writes them, and
    /// <paramref name="extra"/> variables of the driver's own.
    /// </summary>
    public static Task<NodeResult> RunAsync(string script, ClusterFixture cluster, IReadOnlyDictionary<string, string>? extra = null)
    {
        var env = Environment(cluster.BaseUrl, cluster.ApiKey);
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        env["REPLICA_PIDS"] = string.Join(",", cluster.Replicas.Select(r => $"{r.ReplicaId}:{r.Pid.ToString(CultureInfo.InvariantCulture)}"));
        env["REPLICA_URLS"] = string.Join(",", cluster.Replicas.Select(r => $"{r.ReplicaId}:{r.BaseUrl.ToString().TrimEnd('/')}"));
        return RunAsync(script, env);
    }

    private static Dictionary<string, string> Environment(Uri baseUrl, string apiKey) => new()
    {
        ["BASE_URL"] = baseUrl.ToString().TrimEnd('/'),
        ["API_KEY"] = apiKey,
        ["SCREENSHOT_DIR"] = ScreenshotDir,
        ["CHROMIUM"] = RequiredTool.Resolve("chromium"),
    };

    private static Task<NodeResult> RunAsync(string script, Dictionary<string, string> env)
    {
        Directory.CreateDirectory(ScreenshotDir);
        return NodeScript.RunAsync($"browser/{script}", env, Timeout);
    }
}
