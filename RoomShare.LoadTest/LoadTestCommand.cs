using System.CommandLine;
using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest;

/// <summary>The command line: which profile, which arms and scenarios, size overrides, where results go.</summary>
public static class LoadTestCommand
{
    private static readonly string[] ScenarioIds = ["W0", "W1", "W2", "W3"];

    public static RootCommand Create()
    {
        var profile = new Option<string>("--profile") { Description = "quick (CI, toy sizes) or full (issue #9's benchmark)", DefaultValueFactory = _ => "full" };
        profile.AcceptOnlyFromAmong([.. Profiles.Profiles.Names]);
        var arms = new Option<string[]>("--arms") { Description = $"arms to run, comma-separated: {string.Join(", ", ArmShape.Known.Select(a => a.Name))} (default: the profile's)" };
        var scenarios = new Option<string[]>("--scenarios") { Description = "scenarios to run, comma-separated: W0, W1, W2, W3 (default: the profile's)" };
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
            var repoDir = Path.GetFullPath(parse.GetValue(repo) ?? RepoLayout.FindRepo());
            var settings = ProfileOverrides.Apply(Profiles.Profiles.Get(parse.GetValue(profile)!), parse.GetValue(set) ?? []);
            settings = SelectArms(settings, List(parse.GetValue(arms)), List(parse.GetValue(scenarios)));
            var outDir = Path.GetFullPath(parse.GetValue(output)
                ?? Path.Combine(repoDir, "artifacts", "bench", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)));
            var options = new RunOptions(
                repoDir, settings, outDir, parse.GetValue(configuration)!, !parse.GetValue(noBuild), parse.GetValue(maxMinutes) ?? settings.TimeLimitMinutes, parse.GetValue(latencies));
            return await LoadRun.RunAsync(options, cancellationToken);
        });
        root.Subcommands.Add(Tail.TailCommand.Create());
        return root;
    }

    /// <summary>Keeps the named arms (an arm the profile lacks runs W1) and, within them, the named scenarios.</summary>
    private static ProfileSettings SelectArms(ProfileSettings profile, List<string> arms, List<string> scenarios)
    {
        foreach (var scenario in scenarios.Where(s => !ScenarioIds.Contains(s, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"unknown scenario '{scenario}': {string.Join(", ", ScenarioIds)}");
        }

        // Named arms run the named scenarios (else their profile's, else W1); unnamed, the profile's arms
        // run the named scenarios they have.
        var plans = arms.Count == 0
            ? profile.Arms
            : arms.Select(name =>
            {
                var arm = ArmShape.Known.FirstOrDefault(a => a.Name == name)
                    ?? throw new ArgumentException($"unknown arm '{name}': {string.Join(", ", ArmShape.Known.Select(a => a.Name))}");
                return new ArmPlan(arm, scenarios.Count > 0 ? scenarios : profile.Arms.FirstOrDefault(p => p.Arm.Name == name)?.Scenarios ?? ["W1"]);
            }).ToList();
        if (scenarios.Count > 0)
        {
            plans = plans.Select(p => p with { Scenarios = [.. p.Scenarios.Where(s => scenarios.Contains(s, StringComparer.Ordinal))] })
                .Where(p => p.Scenarios.Count > 0).ToList();
        }

        return plans.Count > 0 ? profile with { Arms = plans } : throw new ArgumentException("no arm has any of the selected scenarios");
    }

    private static List<string> List(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}
