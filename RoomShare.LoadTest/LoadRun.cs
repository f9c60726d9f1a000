using System.Diagnostics;
using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Console;
using RoomShare.LoadTest.Hub;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;
using RoomShare.LoadTest.Scenarios;

namespace RoomShare.LoadTest;

/// <summary>What the command line asked for.</summary>
public sealed record RunOptions(
    string Repo,
    ProfileSettings Profile,
    string OutputDirectory,
    string Configuration,
    bool Build,
    double TimeLimitMinutes,
    string? FloorDll,
    bool AckTimelines = false);

/// <summary>
/// A whole run: for each arm, bring its cluster up with eng/cluster.sh, run its scenarios in order, bring
/// it down (always, by the pids the script recorded); then write results.json, report.md and the plots.
/// Exit code: 0 every arm ran, 1 an arm or scenario failed to set up, 2 cancelled or out of time.
/// </summary>
public static class LoadRun
{
    /// <summary>
    /// Connections one scenario may hold: the loopback nginx has 16 384 worker connections and each
    /// WebSocket holds two of them.
    /// </summary>
    public const int MaxConnections = 8_000;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Refuses a profile (as overridden) one of whose scenarios would hold more than <see cref="MaxConnections"/>.</summary>
    public static void CheckConnections(ProfileSettings profile)
    {
        if (profile.MaxConnections > MaxConnections)
        {
            throw new ArgumentException($"a scenario of this profile holds {profile.MaxConnections} connections; the limit is {MaxConnections}");
        }
    }

    public static async Task<int> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        var profile = options.Profile;
        CheckConnections(profile);
        Directory.CreateDirectory(options.OutputDirectory);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var machine = MachineInfo.Read();
        var commit = GitCommit.Describe(options.Repo);
        ProgressLine.Log($"profile {profile.Name}, arms {string.Join(", ", profile.Arms.Select(a => $"{a.Arm.Name} [{string.Join(' ', a.Scenarios)}]"))}; results in {options.OutputDirectory}");

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(options.TimeLimitMinutes));
        var request = new ClusterRequest(options.Repo, options.Configuration, options.Build, options.FloorDll);
        var arms = new List<ArmResult>();
        string? error = null;
        using var probe = new ThreadPoolProbe();
        var progress = new ProgressLine();
        try
        {
            await progress.RunAsync(async () =>
            {
                foreach (var plan in profile.Arms)
                {
                    var armResult = await RunArmAsync(request, plan, profile, probe, progress, options.OutputDirectory, options.AckTimelines, deadline.Token);
                    arms.Add(armResult);
                    if (armResult.Error == ArmStopped || (deadline.Token.IsCancellationRequested && plan != profile.Arms[^1]))
                    {
                        // The arm was cut with what it had, or time ran out during its teardown with arms still to run.
                        throw new OperationCanceledException(deadline.Token);
                    }
                    if (plan.Arm.Server != ArmServer.Floor)
                    {
                        request = request with { Build = false }; // built once; later arms reuse it
                    }

                    await ResultsJson.WriteAsync(options.OutputDirectory, Result(false, "running"));
                }

                return 0;
            });
        }
        catch (OperationCanceledException)
        {
            error = cancellationToken.IsCancellationRequested ? "cancelled" : $"time limit of {options.TimeLimitMinutes} min reached";
            ProgressLine.Warn($"stopped: {error}; clusters were brought down");
        }

        var result = Result(error is null, error);
        await ResultsJson.WriteAsync(options.OutputDirectory, result);
        var plots = TryPlots(options.OutputDirectory, result);
        await MarkdownReport.WriteAsync(options.OutputDirectory, result, plots);
        FinalTable.Print(result, options.OutputDirectory);
        return error is not null ? 2 : arms.Any(HasSetupError) ? 1 : 0;

        RunResult Result(bool complete, string? why) =>
            new(profile.Name, started, Math.Round(clock.Elapsed.TotalSeconds, 1), complete, why, machine, commit, profile, [.. arms], RunSummaries.Of(arms));
    }

    /// <summary>The error of an arm cut short by the run's cancellation or time limit.</summary>
    private const string ArmStopped = "stopped before its scenarios were done (cancelled, or the run's time limit)";

    private static async Task<ArmResult> RunArmAsync(
        ClusterRequest request, ArmPlan plan, ProfileSettings profile, ThreadPoolProbe probe, ProgressLine progress, string outputDirectory, bool ackTimelines, CancellationToken cancellationToken)
    {
        var arm = plan.Arm;
        IdleScenarioResult? idle = null;
        JoinRampResult? ramp = null;
        var writes = new List<WriteScenarioResult>();
        string? error = null;
        try
        {
            progress.Show($"{arm.Name}: eng/cluster.sh up {arm.Replicas}{(request.Build ? " (building RoomServer first)" : string.Empty)}");
            ProgressLine.Log($"{arm.Name}: bringing the cluster up");
            await using var cluster = await ClusterScript.UpAsync(request, arm, Path.Combine(outputDirectory, $"cluster-{arm.Name}.log"), cancellationToken);
            var processes = MeasuredProcess.Of(cluster.Info);
            ProgressLine.Log($"{arm.Name}: up at {cluster.Info.BaseUrl}; measuring {string.Join(", ", processes.Select(p => $"{p.Name}={p.Pid}"))}");
            using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = cluster.Info.BaseUrl, Timeout = CallTimeout * 3 };
            using var hub = new HubEndpoint(cluster.Info.BaseUrl, CallTimeout, arm.MessagePack ? LeanHubWire.MessagePack : LeanHubWire.Json, arm.RoomHint, arm.WebClient);
            await using var aofRewrites = await RedisAofRewrites.ConnectAsync(cluster.Info.RedisNodes);
            if (cluster.Info.RedisNodes is not null && aofRewrites is null)
            {
                ProgressLine.Warn($"{arm.Name}: Redis at {cluster.Info.RedisNodes} could not be reached: steps will not say whether it rewrote its AOF");
            }

            var context = new ArmContext(
                arm, cluster.Info, processes, new RoomApi(http, cluster.Info.ApiKey), hub, profile, probe, progress,
                ackTimelines ? Path.Combine(outputDirectory, "latencies") : null, aofRewrites);
            foreach (var scenario in plan.Scenarios)
            {
                if (scenario != plan.Scenarios[0])
                {
                    progress.Show($"{arm.Name}: quiet for {profile.QuietSeconds}s before {scenario}");
                    await Task.Delay(TimeSpan.FromSeconds(profile.QuietSeconds), cancellationToken);
                }

                switch (scenario)
                {
                    case "W0":
                        idle = await IdleScenario.RunAsync(context, profile.W0, cancellationToken);
                        break;
                    case "W1":
                        writes.Add(await WriteScenario.RunAsync(context, profile.W1, cancellationToken));
                        break;
                    case "W2":
                        writes.Add(await WriteScenario.RunAsync(context, profile.W2, cancellationToken));
                        break;
                    case "W3":
                        ramp = await JoinRampScenario.RunAsync(context, profile.W3, cancellationToken);
                        break;
                    default:
                        throw new ArgumentException($"unknown scenario {scenario}");
                }
            }

            progress.Show($"{arm.Name}: eng/cluster.sh down");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled, or the run's time limit: the scenarios done so far are kept, and the run stops after this arm.
            error = ArmStopped;
        }
        catch (Exception ex)
        {
            // A timeout of its own (an API call, the cluster script) is this arm's error, not the run's end.
            error = $"{ex.GetType().Name}: {ex.Message}";
            ProgressLine.Warn($"{arm.Name}: {error}");
        }

        return new ArmResult(arm.Name, arm.Server, arm.Replicas, idle, writes, ramp, error);
    }

    private static bool HasSetupError(ArmResult arm) =>
        arm.Error is not null || arm.W0?.Error is not null || arm.W3?.Error is not null || arm.Writes.Any(w => w.Error is not null);

    private static IReadOnlyList<string> TryPlots(string directory, RunResult result)
    {
        try
        {
            return ResultPlots.Write(directory, result);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            ProgressLine.Warn($"plots not written: {ex.Message}");
            return [];
        }
    }
}
