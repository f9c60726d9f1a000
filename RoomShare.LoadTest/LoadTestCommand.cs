using System.CommandLine;
using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Profiles;

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
            RunSetup setup;
            try
            {
                setup = RunSetup.Check(
                    parse.GetValue(repo), parse.GetValue(profile)!, parse.GetValue(set) ?? [], parse.GetValue(arms), parse.GetValue(scenarios), parse.GetValue(output), DateTime.UtcNow,
                    configuration: parse.GetValue(configuration)!);
            }
            catch (ArgumentException ex)
            {
                // A mistyped option, or a floor arm without its build, is the user's, not a crash: say what is wrong, as
                // System.CommandLine does for its own checks.
                await System.Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }

            var options = new RunOptions(
                setup.Repo, setup.Profile, setup.OutputDirectory, parse.GetValue(configuration)!, !parse.GetValue(noBuild),
                parse.GetValue(maxMinutes) ?? setup.Profile.TimeLimitMinutes, setup.FloorDll, parse.GetValue(latencies));
            return await LoadRun.RunAsync(options, cancellationToken);
        });
        root.Subcommands.Add(Tail.TailCommand.Create());
        root.Subcommands.Add(Tail.GcCommand.Create());
        return root;
    }
}
