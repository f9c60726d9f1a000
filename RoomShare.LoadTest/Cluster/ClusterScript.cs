using System.Diagnostics;

namespace RoomShare.LoadTest.Cluster;

/// <summary>
/// One cluster brought up by the repo's own eng/cluster.sh in a state dir of its own, and brought down
/// by the same script, which stops exactly the pids it recorded. Disposing always runs `down`, also
/// after a failed or cancelled `up` (the script records each process as it starts it).
/// </summary>
public sealed class ClusterScript : IAsyncDisposable
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(5);
    // Past eng/cluster.sh's own worst case: nginx, the replicas (their drain + 5 s) and Redis each up to 20 s, then a Redis Cluster.
    private static readonly TimeSpan DownTimeout = TimeSpan.FromMinutes(3);

    private readonly string _repo;
    private readonly string _stateDir;
    private readonly string _logFile;

    private ClusterScript(string repo, string stateDir, string logFile)
    {
        _repo = repo;
        _stateDir = stateDir;
        _logFile = logFile;
    }

    public ClusterInfo Info { get; private set; } = null!;

    /// <summary>`eng/cluster.sh up` for <paramref name="arm"/>; its output goes to <paramref name="logFile"/>.</summary>
    public static async Task<ClusterScript> UpAsync(ClusterRequest request, ArmShape arm, string logFile, CancellationToken cancellationToken)
    {
        var stateDir = Path.Combine(Path.GetTempPath(), $"roomshare-loadtest-{arm.Name}-{Guid.NewGuid():N}"[..48]);
        var cluster = new ClusterScript(request.Repo, stateDir, logFile);
        try
        {
            var args = new List<string> { "up", arm.Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configuration", request.Configuration };
            if (!request.Build)
            {
                args.Add("--no-build");
            }

            // The tool sets its population up through the HTTP API far faster than a menu app would (thousands
            // of tokens a second): it measures rooms, not the API's per-key rate limit.
            var env = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["RoomServer__Limits__ApiRequestsPerSecond"] = "1000000",
                ["RoomServer__Limits__ApiRequestBurst"] = "1000000",
            };
            if (arm.Server is ArmServer.Embedded or ArmServer.Floor)
            {
                env["ROOMSHARE_CLUSTER_STORE"] = "embedded";
            }

            if (arm.Server is ArmServer.RoomShareOnRedisCluster)
            {
                env["ROOMSHARE_CLUSTER_STORE"] = "redis-cluster";
            }

            if (arm.Server is ArmServer.Floor)
            {
                env["ROOMSHARE_CLUSTER_SERVER_DLL"] = request.FloorDll
                    ?? throw new InvalidOperationException("a floor arm without a floor build: the command finds it before the run starts");
            }

            if (arm.RuntimeLikeRoomServer)
            {
                // RoomServer.csproj's two runtime settings; the environment overrides the floor's runtimeconfig.
                env["DOTNET_gcServer"] = "0";
                env["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
            }

            await cluster.RunAsync(args, env, UpTimeout, cancellationToken);
            cluster.Info = ClusterInfo.Read(Path.Combine(stateDir, "cluster.env"));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Directory.Exists(_stateDir))
        {
            KeepLogs();
            // Not cancellable: whatever happened, what was started must stop.
            await RunAsync(["down"], new Dictionary<string, string>(StringComparer.Ordinal), DownTimeout, CancellationToken.None);
        }
    }

    /// <summary>`down` deletes the state dir: keep each process's log (not nginx's access log) beside the results first.</summary>
    private void KeepLogs()
    {
        var logs = Path.Combine(_stateDir, "logs");
        if (!Directory.Exists(logs))
        {
            return;
        }

        var kept = Path.ChangeExtension(_logFile, null) + "-logs";
        Directory.CreateDirectory(kept);
        foreach (var log in Directory.EnumerateFiles(logs))
        {
            File.Copy(log, Path.Combine(kept, Path.GetFileName(log)), overwrite: true);
        }
    }

    private async Task RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _repo,
        };
        start.ArgumentList.Add(Path.Combine(_repo, RepoLayout.ClusterScriptPath));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ROOMSHARE_CLUSTER_DIR"] = _stateDir;
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash eng/cluster.sh");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Only our own script, by its pid; `down` (from DisposeAsync) then stops what it had started.
            ProcessSignals.Terminate(process.Id);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            throw;
        }
        finally
        {
            await File.AppendAllTextAsync(_logFile, $"$ eng/cluster.sh {string.Join(' ', args)}\n{await stdout}{await stderr}\n", CancellationToken.None);
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"eng/cluster.sh {string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()} (log: {_logFile})");
        }
    }
}
