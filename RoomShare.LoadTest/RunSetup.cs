using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest;

/// <summary>What a run needs from its command line, checked before anything is started or written.</summary>
/// <param name="Repo">The checkout measured (<c>--repo</c>).</param>
/// <param name="Profile">The profile with its <c>--set</c> overrides, arms and scenarios applied.</param>
/// <param name="FloorDll">RoomShare.Floor.dll when a floor arm runs, else null.</param>
/// <param name="OutputDirectory">The results folder, made last.</param>
public sealed record RunSetup(string Repo, ProfileSettings Profile, string? FloorDll, string OutputDirectory)
{
    /// <summary>
    /// Every check a run can fail before it starts, each an <see cref="ArgumentException"/> that says what is wrong in one
    /// line: the checkout, the overrides, the connection bound, the floor's build (only when a floor arm runs). The
    /// results folder is made last, so nothing is made for a refused run.
    /// </summary>
    /// <param name="repo"><c>--repo</c>, or null for this tool's own checkout.</param>
    /// <param name="profile"><c>--profile</c>.</param>
    /// <param name="assignments">Every <c>--set</c>.</param>
    /// <param name="arms"><c>--arms</c>, or null for the profile's.</param>
    /// <param name="scenarios"><c>--scenarios</c>, or null for the profile's.</param>
    /// <param name="output"><c>--out</c>, or null for a folder under the checkout named by <paramref name="utcNow"/>.</param>
    /// <param name="utcNow">Now, for the default folder's name.</param>
    /// <param name="toolBinaries">This tool's own build output, where the floor's build is looked for too; tests pass another.</param>
    /// <param name="configuration"><c>--configuration</c>: RoomServer's, and so the floor's.</param>
    public static RunSetup Check(
        string? repo, string profile, string[] assignments, string[]? arms, string[]? scenarios, string? output, DateTime utcNow, string? toolBinaries = null,
        string configuration = "Release")
    {
        var checkout = RepoLayout.Checkout(repo);
        var settings = ProfileOverrides.Apply(Profiles.Profiles.Get(profile), assignments);
        settings = ArmSelection.Apply(settings, ArmSelection.Names(arms), ArmSelection.Names(scenarios));
        LoadRun.CheckConnections(settings);
        var floorDll = settings.Arms.Any(a => a.Arm.Server == ArmServer.Floor) ? RepoLayout.FindFloorDll(checkout, configuration, toolBinaries) : null;
        return new RunSetup(checkout, settings, floorDll, ResultsFolder.Create(output, checkout, utcNow));
    }
}
