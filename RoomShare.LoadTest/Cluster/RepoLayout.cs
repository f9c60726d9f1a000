namespace RoomShare.LoadTest.Cluster;

/// <summary>Where the checkout and the floor build are, found from this tool's own build output.</summary>
public static class RepoLayout
{
    /// <summary>The folder holding RoomShare.sln above this tool's binaries.</summary>
    public static string FindRepo()
    {
        // Bounded by the depth of the file system.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoomShare.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"RoomShare.sln not found above {AppContext.BaseDirectory}; pass --repo");
    }

    /// <summary>
    /// RoomShare.Floor.dll of the same configuration as this tool (the project reference builds it alongside),
    /// else any configuration that exists.
    /// </summary>
    public static string FindFloorDll(string repo)
    {
        // The floor is the tool's own arm: a checkout measured with --repo (an older main, say) may not
        // have it, so the tool's own checkout (bin/<configuration>/net10.0 → four levels up) is searched too.
        var binary = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var own = binary.Parent?.Name ?? "Release";
        var toolCheckout = binary.Parent?.Parent?.Parent?.Parent?.FullName;
        foreach (var checkout in new[] { repo, toolCheckout }.OfType<string>())
        {
            foreach (var configuration in new[] { own, "Release", "Debug" })
            {
                var dll = Path.Combine(checkout, "RoomShare.Floor", "bin", configuration, "net10.0", "RoomShare.Floor.dll");
                if (File.Exists(dll))
                {
                    return dll;
                }
            }
        }

        throw new InvalidOperationException($"RoomShare.Floor.dll not built under {repo}/RoomShare.Floor/bin: run `dotnet build RoomShare.LoadTest`");
    }
}
