using System.CommandLine;
using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest;

/// <summary>The command line: which profile, which arms and scenarios, size overrides, where results go.</summary>
public static class LoadTestCommand
{
    public static RootCommand Create()
    {
        var profile = new Option<string>("--profile") { Description = "quick (CI, toy sizes) or full (issue #9's benchmark)", DefaultValueFactory = _ => "full" };
        profile.AcceptOnlyFromAmong([.. Profiles.Profiles.Names]);
        var arms = new Option<string[]>("--arms") { Description = $"arms to run, comma-separated: {string.Join(", ", ArmShape.Known.Select(a => a.Name))} (default: the profile's)" };
        var scenarios = new Option<string[]>("--scenarios") { Description = $"scenarios to run, comma-separated: {string.Join(", ", ArmSelection.ScenarioIds)} (default: the profile's)" };
        var set = new Option<string[]>("--set") { Description = "override a size, e.g. --set W1.rooms=50 --set W1.rates=100,200 (see README)" };
        var output = new Option<string?>("--out") { Description = "results folder (default: <repo>/artifacts/bench/<UTC timestamp>)" };
        var repo = new Option<string?>("--repo") { Description = "the checkout whose eng/cluster.sh and RoomServer are measured (default: the one this tool was built in)" };
        var configuration = new Option<string>("--configuration", "-c") { Description = "RoomServer build configuration", DefaultValueFactory = _ => "Release" };
        var noBuild = new Option<bool>("--no-build") { Description = "reuse the existing RoomServer build" };
        var maxMinutes = new Option<double?>("--max-minutes") { Description = "hard time limit of the whole run (default: the profile's)" };
        var latencies = new Option<bool>("--latencies") { Description = "also write each write step's ack timeline (every change's intended time and ack latency) under <out>/latencies, for `tail`" };

        var root = new RootCommand("RoomShare load test: stepped open-loop load through nginx against clusters brought up by eng/cluster.sh")
        {
            profile, arms, scenarios, set, output, repo, configuration, noBuild, maxMinutes, latencies,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            string repoDir;
            ProfileSettings settings;
            string outDir;
            string? floorDll;
            try
            {
                repoDir = RepoLayout.Checkout(parse.GetValue(repo));
                settings = ProfileOverrides.Apply(Profiles.Profiles.Get(parse.GetValue(profile)!), parse.GetValue(set) ?? []);
                settings = ArmSelection.Apply(settings, ArmSelection.Names(parse.GetValue(arms)), ArmSelection.Names(parse.GetValue(scenarios)));
                LoadRun.CheckConnections(settings);
                floorDll = settings.Arms.Any(a => a.Arm.Server == ArmServer.Floor) ? RepoLayout.FindFloorDll(repoDir) : null;
                outDir = ResultsFolder.Create(parse.GetValue(output), repoDir, DateTime.UtcNow); // last: nothing is made for a run refused above
            }
            catch (Exception ex) when (ex is ArgumentException or FileNotFoundException)
            {
                // A mistyped option, or a floor arm without its build, is the user's, not a crash: say what is wrong, as
                // System.CommandLine does for its own checks.
                await System.Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }

            var options = new RunOptions(
                repoDir, settings, outDir, parse.GetValue(configuration)!, !parse.GetValue(noBuild), parse.GetValue(maxMinutes) ?? settings.TimeLimitMinutes, parse.GetValue(latencies), floorDll);
            return await LoadRun.RunAsync(options, cancellationToken);
        });
        root.Subcommands.Add(Tail.TailCommand.Create());
        return root;
    }
}
