extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest;
using loadtool::RoomShare.LoadTest.Cluster;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The load tool's <c>--repo</c> and <c>--out</c>, and its connection bound, are checked before anything starts: a
/// checkout without <c>eng/cluster.sh</c>, a results folder that cannot be made, or a scenario past the bound is one
/// clear <see cref="ArgumentException"/> (the command prints its message on one line), and nothing is created for it.
/// </summary>
public sealed class LoadToolRunPathsTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("roomshare-runpaths-").FullName;

    [Fact]
    public void WithoutRepoTheToolsOwnCheckoutIsMeasured()
    {
        var checkout = RepoLayout.Checkout(null);

        File.Exists(Path.Combine(checkout, RepoLayout.ClusterScript)).Should().BeTrue();
        File.Exists(Path.Combine(checkout, "RoomShare.sln")).Should().BeTrue();
    }

    [Fact]
    public void ARepoWithTheClusterScriptIsTakenWhole()
    {
        Directory.CreateDirectory(Path.Combine(_scratch, "eng"));
        File.WriteAllText(Path.Combine(_scratch, RepoLayout.ClusterScript), "");

        RepoLayout.Checkout(_scratch + "/eng/..").Should().Be(_scratch);
    }

    [Fact]
    public void ARepoWithoutTheClusterScriptIsRefusedByName()
    {
        var missing = Path.Combine(_scratch, "nowhere");

        var act = () => RepoLayout.Checkout(missing);

        act.Should().Throw<ArgumentException>().WithMessage($"--repo '{missing}': not a RoomShare checkout (no eng/cluster.sh there)");
        Directory.Exists(missing).Should().BeFalse("nothing is made for a refused checkout");
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

        ResultsFolder.Create(given, "/unused", DateTime.UtcNow).Should().Be(given);
        Directory.Exists(given).Should().BeTrue();
    }

    [Fact]
    public void AResultsFolderThatCannotBeMadeIsRefusedByName()
    {
        var file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "in the way");
        var below = Path.Combine(file, "results");

        var act = () => ResultsFolder.Create(below, _scratch, DateTime.UtcNow);

        act.Should().Throw<ArgumentException>().WithMessage($"--out '{below}': the results folder cannot be made there (*");
    }

    [Fact]
    public void AScenarioPastTheConnectionBoundIsRefusedBeforeTheRun()
    {
        var tooMany = ProfileOverrides.Apply(Profiles.Get("full"), [$"W0.rooms={LoadRun.MaxConnections}"]);

        var act = () => LoadRun.CheckConnections(tooMany);

        act.Should().Throw<ArgumentException>().WithMessage($"*the limit is {LoadRun.MaxConnections}");
        LoadRun.CheckConnections(Profiles.Get("full"));
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
