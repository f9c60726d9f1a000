namespace RoomShare.LoadTest.Cluster;

/// <summary>Where the checkout and the floor build are, found from this tool's own build output.</summary>
public static class RepoLayout
{
    /// <summary>
    /// The checkout to measure: <paramref name="given"/> (<c>--repo</c>), which must hold <c>eng/cluster.sh</c> (nothing else
    /// brings a cluster up), or else the one this tool was built in. Either failing is an <see cref="ArgumentException"/>
    /// that says which, before anything is started or written.
    /// </summary>
    public static string Checkout(string? given)
    {
        if (given is null)
        {
            return FindRepo();
        }

        string full;
        try
        {
            full = Path.GetFullPath(given);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"--repo '{given}': not a path ({ex.Message})", ex);
        }

        return File.Exists(Path.Combine(full, ClusterScriptPath))
            ? full
            : throw new ArgumentException($"--repo '{given}': not a RoomShare checkout (no {ClusterScriptPath} there)");
    }

    /// <summary>The script that brings every arm's cluster up, relative to the checkout.</summary>
    public const string ClusterScriptPath = "eng/cluster.sh";

    /// <summary>The folder holding RoomShare.sln above this tool's binaries.</summary>
    private static string FindRepo()
    {
        // Bounded by the depth of the file system.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoomShare.sln")))
            {
                return dir.FullName;
            }
        }

        throw new ArgumentException($"RoomShare.sln not found above {AppContext.BaseDirectory}: pass --repo");
    }

    /// <summary>
    /// RoomShare.Floor.dll in the configuration RoomServer is measured in (<c>--configuration</c>), from the checkout
    /// measured or else this tool's own: a floor of another configuration (a Debug floor against a Release RoomServer,
    /// when the tool itself was built in Debug) would measure the two servers unlike. None is an
    /// <see cref="ArgumentException"/> that names where it looked and how to build it, raised before anything is started
    /// or written, as for a bad <c>--repo</c>.
    /// </summary>
    /// <param name="repo">The checkout measured.</param>
    /// <param name="configuration">RoomServer's build configuration in this run.</param>
    /// <param name="toolBinaries">This tool's own build output (<c>bin/&lt;configuration&gt;/net10.0</c>); tests pass another.</param>
    public static string FindFloorDll(string repo, string configuration, string? toolBinaries = null)
    {
        // The floor is the tool's own arm: a checkout measured with --repo (an older main, say) may not
        // have it, so the tool's own checkout (bin/<configuration>/net10.0 → four levels up) is searched too.
        var binary = new DirectoryInfo((toolBinaries ?? AppContext.BaseDirectory).TrimEnd(Path.DirectorySeparatorChar));
        var toolCheckout = binary.Parent?.Parent?.Parent?.Parent?.FullName;
        var checkouts = new[] { repo, toolCheckout }.OfType<string>().Distinct().ToList();
        foreach (var checkout in checkouts)
        {
            var dll = Path.Combine(checkout, "RoomShare.Floor", "bin", configuration, "net10.0", "RoomShare.Floor.dll");
            if (File.Exists(dll))
            {
                return dll;
            }
        }

        var searched = string.Join(" or ", checkouts.Select(c => Path.Combine(c, "RoomShare.Floor", "bin", configuration)));
        throw new ArgumentException(
            $"no {configuration} build of RoomShare.Floor.dll (the floor arm's server, built as RoomServer is measured) under {searched}: run `dotnet build RoomShare.LoadTest -c {configuration}`");
    }
}
