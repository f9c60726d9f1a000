extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest;
using loadtool::RoomShare.LoadTest.Cluster;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Results;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's <c>--repo</c> and <c>--out</c>, its connection bound and the floor arm's build are checked before
/// anything starts: a checkout without <c>eng/cluster.sh</c>, a results folder that cannot be made, a scenario past the
/// bound or a floor arm with no RoomShare.Floor.dll is one clear <see cref="ArgumentException"/> (the command prints its
/// message on one line), and nothing is created for it (<see cref="RunSetup.Check"/> makes the results folder last).
/// </summary>
public sealed class LoadToolRunPathsTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("roomshare-runpaths-").FullName;

    [Fact]
    public void WithoutRepoTheToolsOwnCheckoutIsMeasured()
    {
        var checkout = RepoLayout.Checkout(null);

        File.Exists(Path.Combine(checkout, RepoLayout.ClusterScriptPath)).Should().BeTrue();
        File.Exists(Path.Combine(checkout, "RoomShare.sln")).Should().BeTrue();
    }

    [Fact]
    public void ARepoWithTheClusterScriptIsTakenWhole()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "eng"));
        File.WriteAllText(Path.Combine(_scratch, RepoLayout.ClusterScriptPath), "");

        RepoLayout.Checkout(Path.Combine(_scratch, "eng", "..")).Should().Be(_scratch);
    }

    [Fact]
    public void ARepoWithoutTheClusterScriptIsRefusedByName()
    {
        var missing = Path.Combine(_scratch, "nowhere");

        var act = () => RepoLayout.Checkout(missing);

        act.Should().Throw<ArgumentException>().WithMessage($"--repo '{missing}': not a RoomShare checkout (no eng/cluster.sh there)");
    }

    [Fact]
    public void ResultsGoUnderTheCheckoutByDefaultNamedByTheTime()
    {
        var folder = ResultsFolder.Create(null, _scratch, new DateTime(2026, 12, 5, 22, 30, 1, DateTimeKind.Utc));

        folder.Should().Be(Path.Combine(_scratch, "artifacts", "bench", "20261205-223001"));
        Directory.Exists(folder).Should().BeTrue();
    }

    [Fact]
    public void AGivenResultsFolderIsMadeWithItsParents()
    {
        var given = Path.Combine(_scratch, "a", "b");

        ResultsFolder.Create(given, Path.Combine(_scratch, "unused"), DateTime.UtcNow).Should().Be(given);
        Directory.Exists(given).Should().BeTrue();
    }

    [Fact]
    public void AResultsFolderThatCannotBeMadeIsRefusedByName()
    {
        var file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "in the way");
        var below = Path.Combine(file, "results");

        var act = () => ResultsFolder.Create(below, _scratch, DateTime.UtcNow);

        act.Should().Throw<ArgumentException>().WithMessage($"--out '{below}': it cannot be made (*); pass --out");
    }

    [Fact]
    public void AFailedDefaultResultsFolderIsNamedAsTheDefaultNotAsOut()
    {
        var file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "in the way");

        var act = () => ResultsFolder.Create(null, file, DateTime.UtcNow);

        act.Should().Throw<ArgumentException>().WithMessage($"the default results folder '{file}/artifacts/bench/*': it cannot be made (*); pass --out");
    }

    [Fact]
    public void TheFloorBuildOfTheMeasuredCheckoutComesFirst()
    {
        var measured = FloorBuild(Path.Combine(_scratch, "measured"), "Release");
        FloorBuild(Path.Combine(_scratch, "tool"), "Release");

        RepoLayout.FindFloorDll(Path.Combine(_scratch, "measured"), "Release", ToolBinaries("Release")).Should().Be(measured);
    }

    [Fact]
    public void AFloorBuiltInAnotherConfigurationThanRoomServerIsNotTaken()
    {
        // The tool built in Debug (dotnet run) measures a Release RoomServer: a Debug floor would be the slower server.
        var measured = Directory.CreateDirectory(Path.Combine(_scratch, "measured")).FullName;
        FloorBuild(measured, "Debug");
        FloorBuild(Path.Combine(_scratch, "tool"), "Debug");

        var act = () => RepoLayout.FindFloorDll(measured, "Release", ToolBinaries("Debug"));

        act.Should().Throw<ArgumentException>().WithMessage("no Release build of RoomShare.Floor.dll*run `dotnet build RoomShare.LoadTest -c Release`");
        RepoLayout.FindFloorDll(measured, "Debug", ToolBinaries("Debug")).Should().Be(Path.Combine(measured, "RoomShare.Floor", "bin", "Debug", "net10.0", "RoomShare.Floor.dll"));
    }

    [Fact]
    public void ACheckoutWithoutAFloorBuildBorrowsTheToolsOwn()
    {
        // An older checkout measured with --repo may predate the floor; the tool's own checkout has it.
        Directory.CreateDirectory(Path.Combine(_scratch, "measured"));
        var own = FloorBuild(Path.Combine(_scratch, "tool"), "Debug");

        RepoLayout.FindFloorDll(Path.Combine(_scratch, "measured"), "Debug", ToolBinaries("Debug")).Should().Be(own);
    }

    [Fact]
    public void NoFloorBuildAnywhereIsRefusedNamingWhereItLooked()
    {
        var measured = Directory.CreateDirectory(Path.Combine(_scratch, "measured")).FullName;

        var act = () => RepoLayout.FindFloorDll(measured, "Release", ToolBinaries("Release"));

        act.Should().Throw<ArgumentException>().WithMessage(
            $"no Release build of RoomShare.Floor.dll (the floor arm's server, built as RoomServer is measured) under {measured}/RoomShare.Floor/bin/Release or {_scratch}/tool/RoomShare.Floor/bin/Release: run `dotnet build RoomShare.LoadTest -c Release`");
    }

    [Fact]
    public void AFloorArmWithoutItsBuildIsRefusedBeforeTheResultsFolderIsMade()
    {
        var results = Path.Combine(_scratch, "results");

        var act = () => RunSetup.Check(Checkout(), "full", [], ["floor"], ["W1"], results, DateTime.UtcNow, ToolBinaries("Release"));

        act.Should().Throw<ArgumentException>().WithMessage("no Release build of RoomShare.Floor.dll (the floor arm's server, built as RoomServer is measured) under *");
        Directory.Exists(results).Should().BeFalse("nothing is made for a refused run");
    }

    [Fact]
    public void ARunWithoutAFloorArmNeedsNoFloorBuild()
    {
        var results = Path.Combine(_scratch, "results");

        var setup = RunSetup.Check(Checkout(), "full", [], ["roomshare-2"], ["W1"], results, DateTime.UtcNow, ToolBinaries("Release"));

        setup.FloorDll.Should().BeNull();
        setup.Profile.Arms.Select(a => a.Arm.Name).Should().Equal("roomshare-2");
        Directory.Exists(results).Should().BeTrue();
    }

    [Fact]
    public void AFloorArmRunsTheMeasuredCheckoutsFloorBuild()
    {
        var checkout = Checkout();
        var floor = FloorBuild(checkout, "Release");

        var setup = RunSetup.Check(checkout, "full", [], ["floor"], ["W1"], Path.Combine(_scratch, "results"), DateTime.UtcNow, ToolBinaries("Release"));

        setup.FloorDll.Should().Be(floor);
    }

    [Fact]
    public void AScenarioPastTheConnectionBoundIsRefused()
    {
        var tooMany = ProfileOverrides.Apply(Profiles.Get("full"), [$"W0.rooms={LoadRun.MaxConnections}"]);

        var act = () => LoadRun.CheckConnections(tooMany);

        act.Should().Throw<ArgumentException>().WithMessage($"*the limit is {LoadRun.MaxConnections}");
        var full = () => LoadRun.CheckConnections(Profiles.Get("full"));
        full.Should().NotThrow();
    }

    /// <summary>The tool itself, as a user runs it: exit 1, the one line on stderr, and no folder made for the refused run.</summary>
    [Theory]
    [InlineData("repo", "--repo '{scratch}/empty': not a RoomShare checkout (no eng/cluster.sh there)")]
    [InlineData("out", "--out '{scratch}/a-file/results': it cannot be made (*); pass --out")]
    [InlineData("connections", "a scenario of this profile holds 90000 connections; the limit is 8000")]
    public async Task TheToolRefusesABadRunInOneLineAndMakesNothing(string what, string message)
    {
        var tool = Path.Combine(RepoPaths.RepoRoot, "RoomShare.LoadTest", "bin", RepoPaths.Configuration, "net10.0", "RoomShare.LoadTest.dll");
        var empty = Directory.CreateDirectory(Path.Combine(_scratch, "empty")).FullName;
        File.WriteAllText(Path.Combine(_scratch, "a-file"), "in the way");
        var results = Path.Combine(_scratch, "results");
        string[] arguments = what switch
        {
            "repo" => ["--repo", empty, "--out", results],
            "out" => ["--out", Path.Combine(_scratch, "a-file", "results")],
            _ => ["--arms", "roomshare-2", "--scenarios", "W0", "--set", "W0.rooms=9000", "--out", results],
        };
        var stderr = new OutputLog();

        using var run = ChildProcess.Start("dotnet", [tool, "--no-build", "--configuration", RepoPaths.Configuration, .. arguments], "RoomShare.LoadTest", errorOutput: stderr);
        if (!await run.WaitForExitAsync(TimeSpan.FromSeconds(60)))
        {
            run.Kill();
            Assert.Fail($"the tool did not refuse the run: {run.Describe()}");
        }

        run.ExitCode.Should().Be(1, run.Describe());
        stderr.ToString().TrimEnd().Should().Match(message.Replace("{scratch}", _scratch), "one line says what is wrong, no stack trace");
        Directory.Exists(results).Should().BeFalse("nothing is written for a refused run");
        Directory.Exists(Path.Combine(empty, "artifacts")).Should().BeFalse("nothing is made under a refused checkout");
    }

    /// <summary>A checkout's RoomShare.Floor.dll in <paramref name="configuration"/>'s output; its path.</summary>
    private static string FloorBuild(string checkout, string configuration)
    {
        var folder = Directory.CreateDirectory(Path.Combine(checkout, "RoomShare.Floor", "bin", configuration, "net10.0")).FullName;
        var dll = Path.Combine(folder, "RoomShare.Floor.dll");
        File.WriteAllText(dll, "");
        return dll;
    }

    /// <summary>A checkout under the scratch folder that passes <c>--repo</c>'s check (it has the cluster script) and has no floor build.</summary>
    private string Checkout()
    {
        var checkout = Path.Combine(_scratch, "measured");
        Directory.CreateDirectory(Path.Combine(checkout, "eng"));
        File.WriteAllText(Path.Combine(checkout, RepoLayout.ClusterScriptPath), "");
        return checkout;
    }

    /// <summary>Where the tool's own binaries would be in a checkout at <c>tool</c> under the scratch folder.</summary>
    private string ToolBinaries(string configuration) =>
        Path.Combine(_scratch, "tool", "RoomShare.LoadTest", "bin", configuration, "net10.0");

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
