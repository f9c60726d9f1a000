namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Where things live in the repository, derived from the running test assembly so tests work from
/// any current directory (IDE, `dotnet test`, CI) and always start the RoomServer build that matches
/// the test build's configuration.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The folder holding <c>RoomShare.sln</c>.</summary>
    public static string RepoRoot => Root.Value;

    public static string RoomServerProjectDir => Path.Combine(RepoRoot, "RoomServer");

    /// <summary>Debug or Release: the folder name above <c>net10.0/</c> in the test assembly's path.</summary>
    public static string Configuration
    {
        get
        {
            // The test assembly runs from .../RoomServer.Tests/bin/<Config>/<tfm>/.
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return tfmDir.Parent?.Name
                ?? throw new InvalidOperationException($"Cannot derive the build configuration from {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The RoomServer build that matches this test build (<c>RoomServer/bin/&lt;Config&gt;/net10.0/RoomServer.dll</c>).</summary>
    public static string RoomServerDll => Path.Combine(RoomServerProjectDir, "bin", Configuration, "net10.0", "RoomServer.dll");

    public static string JsTestsDir => Path.Combine(RepoRoot, "tests", "js");

    private static string FindRoot()
    {
        // Bounded by the depth of the file system: each step goes one folder up.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoomShare.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"RoomShare.sln not found in any parent of {AppContext.BaseDirectory}");
    }
}
