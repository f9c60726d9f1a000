extern alias loadtool;

using System.Text.Json;
using loadtool::RoomShare.LoadTest.Results;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Bench;

/// <summary>
/// The load tool's quick profile (RoomShare.LoadTest --profile quick) end to end, as a child process: it
/// brings up its own clusters with eng/cluster.sh (the floor arm, and two replicas on Redis behind nginx),
/// drives every scenario at toy sizes and tears them down. Asserts only correctness — it completed, no
/// delivery went missing, none arrived out of order — and that its measurements are taken as described (the
/// generator's GC held off when asked, W0's halves). Speed lives in the benchmark, never in tests.
/// </summary>
[Trait("Suite", "Bench")]
public sealed class QuickProfileTests(ITestOutputHelper output) : IDisposable
{
    // The profile's own time limit is 3 minutes; the tool stops itself well before this test gives up.
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(60);

    private readonly string _results = Path.Combine(Path.GetTempPath(), $"roomshare-quick-profile-{Guid.NewGuid():N}");

    [Fact]
    public async Task QuickProfileCompletesWithNoLostAndNoOutOfOrderDeliveries()
    {
        RequiredTool.Resolve("redis-server");
        RequiredTool.Resolve("nginx");
        var tool = Path.Combine(RepoPaths.RepoRoot, "RoomShare.LoadTest", "bin", RepoPaths.Configuration, "net10.0", "RoomShare.LoadTest.dll");
        File.Exists(tool).Should().BeTrue($"{tool} is built with the solution: run `dotnet build RoomShare.sln`");

        var clustersBefore = LoadToolClusterDirs();
        using var run = ChildProcess.Start(
            "dotnet",
            [tool, "--profile", "quick", "--no-build", "--configuration", RepoPaths.Configuration, "--repo", RepoPaths.RepoRoot, "--out", _results, "--set", "gen.holdgc=on"],
            "RoomShare.LoadTest --profile quick");
        if (!await run.WaitForExitAsync(RunTimeout))
        {
            // SIGTERM: the tool brings its clusters down before exiting. Killed instead, it leaves them to init (the
            // cluster script's processes are not its children): then the test brings down those it made.
            if (!await run.StopAsync(TeardownTimeout))
            {
                await BringDownAsync(LoadToolClusterDirs().Except(clustersBefore));
            }

            Assert.Fail($"the quick profile did not finish within {RunTimeout.TotalMinutes} min: {run.Describe()}");
        }

        output.WriteLine(run.Output.ToString());
        run.ExitCode.Should().Be(0, $"the quick profile must run every arm: {run.Describe()}");
        using var results = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_results, "results.json")));
        var root = results.RootElement;
        root.GetProperty("complete").GetBoolean().Should().BeTrue(run.Describe());
        root.GetProperty("arms").EnumerateArray().Select(arm => arm.GetProperty("arm").GetString())
            .Should().Equal(["floor", "roomshare-2"], "the quick profile runs the floor and two replicas");
        var writeSteps = root.GetProperty("arms").EnumerateArray()
            .SelectMany(arm => arm.GetProperty("writes").EnumerateArray())
            .SelectMany(write => write.GetProperty("steps").EnumerateArray())
            .ToList();
        writeSteps.Should().NotBeEmpty("the quick profile runs write steps on every arm");
        foreach (var write in root.GetProperty("arms").EnumerateArray().SelectMany(arm => arm.GetProperty("writes").EnumerateArray()))
        {
            // Each step carries its own number (its ack timeline's name with --latencies): the warm-up 0, none repeated.
            var numbers = write.GetProperty("steps").EnumerateArray().Concat(write.GetProperty("discardedSteps").EnumerateArray())
                .Select(step => step.GetProperty("step").GetInt32()).ToList();
            numbers.Should().OnlyHaveUniqueItems("every step of an arm's scenario has its own number").And.Contain(0, "the warm-up pass is step 0");
        }

        writeSteps.Sum(step => step.GetProperty("sent").GetInt32()).Should().BePositive("changes were sent");
        foreach (var step in writeSteps)
        {
            // Asked to (gen.holdgc=on), the generator holds its own GC off through every step's sends (Measure/GeneratorGcHold).
            var gc = step.GetProperty("generatorGc");
            gc.GetProperty("held").GetBoolean().Should().BeTrue($"the step at {step.GetProperty("rate")}/s ran inside the generator's no-GC region");
            gc.GetProperty("collections").GetInt32().Should().Be(0, "the generator made no collection during the step's sends");
        }

        var report = await File.ReadAllTextAsync(Path.Combine(_results, "report.md"));
        report.Should().Contain("the generator's own GC held off through each write step's sends", "the report says how the steps were measured");

        // The box's transparent-huge-page mode moves W1's capacity on the development VM, so the machine line names it
        // (a box without the sysfs file, or one the tests cannot read, has no mode to name).
        if (TransparentHugePages.Mode() is { } expected)
        {
            root.GetProperty("machine").GetProperty("hugePages").GetString().Should().Be(expected, "results.json records the box's THP mode");
            report.Should().Contain($"transparent huge pages: {expected}", "the report's machine line names it");
        }

        var summary = root.GetProperty("summary");
        summary.GetProperty("missing").GetInt64().Should().Be(0, "every accepted change reaches every member of its room");
        summary.GetProperty("outOfOrder").GetInt64().Should().Be(0, "every member sees its room's versions in order");
        summary.GetProperty("failedWrites").GetInt64().Should().Be(0, "no change is refused (a refused change is expected nowhere, so it is no missing delivery)");
        summary.GetProperty("unacknowledgedWrites").GetInt64().Should().Be(0, "every change is answered");
        summary.GetProperty("failedJoins").GetInt64().Should().Be(0, "every W3 join completes at these rates");

        // W0 joins its rooms in two halves, reads every replica between them and gives each the second half's memory per connection too.
        var w0 = root.GetProperty("arms").EnumerateArray()
            .Single(arm => arm.GetProperty("arm").GetString() == "roomshare-2")
            .GetProperty("w0");
        var joined = w0.GetProperty("connect").GetProperty("joined").GetInt32();
        var servers = w0.GetProperty("joinedByServer").EnumerateObject().ToList();
        servers.Select(server => server.Name).Should().BeEquivalentTo(["r1", "r2"], "roomshare-2 has two replicas");
        servers.Sum(server => server.Value.GetInt32()).Should().Be(joined, "every joined member is on one replica");
        var secondHalf = w0.GetProperty("secondHalfJoinedByServer").EnumerateObject().ToList();
        secondHalf.Sum(server => server.Value.GetInt32()).Should().BeInRange(1, joined - 1, "the second half is some of the members, not all or none");
        foreach (var server in servers)
        {
            w0.GetProperty("rssAfterFirstHalfBytes").GetProperty(server.Name).ValueKind.Should().Be(JsonValueKind.Number, $"{server.Name} is read between the halves");
            if (w0.GetProperty("secondHalfJoinedByServer").GetProperty(server.Name).GetInt32() > 0)
            {
                w0.GetProperty("secondHalfKbPerConnectionByReplica").GetProperty(server.Name).ValueKind
                    .Should().Be(JsonValueKind.Number, $"{server.Name} had members join in the second half");
            }
        }

        // W3 on the floor too, so the join capacity is given as a fraction of the platform's.
        var joins = summary.GetProperty("joinsVersusFloor").EnumerateArray().ToList();
        joins.Select(j => j.GetProperty("arm").GetString()).Should().Equal(["roomshare-2"], "roomshare-2 runs W3 and is compared with the floor's");
        var floorJoinSteps = root.GetProperty("arms").EnumerateArray()
            .Single(arm => arm.GetProperty("arm").GetString() == "floor")
            .GetProperty("w3").GetProperty("steps").EnumerateArray().ToList();
        floorJoinSteps.Should().NotBeEmpty("the floor runs W3 too");
        floorJoinSteps.Sum(step => step.GetProperty("joined").GetInt32()).Should().BePositive("the floor completed joins");
        if (floorJoinSteps.Any(step => step.GetProperty("valid").GetBoolean()))
        {
            joins[0].GetProperty("floorCapacity").ValueKind.Should().Be(JsonValueKind.Number, "the floor reached a valid step");
        }
        else
        {
            // On a box busy with other suites the generator can be late in every one of the floor's few
            // quick steps; then there is honestly no fraction to give, and the report says why.
            output.WriteLine("the floor's W3 steps were all invalid (the generator was late): no join fraction this run");
            joins[0].GetProperty("floorCapacity").ValueKind.Should().Be(JsonValueKind.Null, "no valid step, no capacity");
            joins[0].GetProperty("note").GetString().Should().StartWith("the floor has no capacity this run", "the report says why there is no fraction");
        }
        (await File.ReadAllTextAsync(Path.Combine(_results, "report.md"))).Should().Contain("## W3 join capacity (joins/s)");

        // Steps on a Redis arm, writes and joins alike, say whether Redis rewrote its AOF meanwhile; the floor has no Redis to
        // ask. The mark is best-effort (a read that times out on a busy box leaves that step unmarked, and the run goes on), so
        // each kind of step must be marked at least once, not every time.
        foreach (var arm in root.GetProperty("arms").EnumerateArray())
        {
            var name = arm.GetProperty("arm").GetString();
            var writes = arm.GetProperty("writes").EnumerateArray().SelectMany(write => write.GetProperty("steps").EnumerateArray()).ToList();
            var joinSteps = arm.GetProperty("w3").GetProperty("steps").EnumerateArray().ToList();
            foreach (var (kind, steps) in new[] { ("write", writes), ("join", joinSteps) })
            {
                var marks = steps.Select(step => step.GetProperty("aofRewrites").ValueKind).ToList();
                marks.Should().NotBeEmpty($"{name} ran {kind} steps");
                if (name == "floor")
                {
                    marks.Should().AllSatisfy(mark => mark.Should().Be(JsonValueKind.Null), "the floor has no Redis");
                }
                else
                {
                    marks.Should().Contain(JsonValueKind.Number, $"{name}'s {kind} steps are marked from Redis's INFO");
                    output.WriteLine($"{name} {kind} steps' AOF marks: {string.Join(", ", marks)}");
                }
            }
        }
    }

    /// <summary>The quick profile's arms' cluster state directories (ClusterScript: roomshare-loadtest-&lt;arm&gt;-…, in the temp folder).</summary>
    private static HashSet<string> LoadToolClusterDirs() =>
        [.. QuickArms.SelectMany(arm => Directory.EnumerateDirectories(Path.GetTempPath(), $"roomshare-loadtest-{arm}-*"))];

    private static readonly string[] QuickArms = ["floor", "roomshare-2"];

    private static async Task BringDownAsync(IEnumerable<string> stateDirs)
    {
        foreach (var stateDir in stateDirs)
        {
            using var down = ChildProcess.Start(
                "bash", [Path.Combine(RepoPaths.RepoRoot, "eng", "cluster.sh"), "down"], "eng/cluster.sh down", RepoPaths.RepoRoot,
                new Dictionary<string, string?> { ["ROOMSHARE_CLUSTER_DIR"] = stateDir });
            await down.WaitForExitAsync(TimeSpan.FromMinutes(3));
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_results))
        {
            Directory.Delete(_results, recursive: true);
        }
    }
}
