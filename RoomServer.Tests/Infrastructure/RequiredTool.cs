namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Resolves an external binary on PATH. A missing tool fails the test with the install command:
/// a silently skipped test would hide a broken CI image.
/// </summary>
public static class RequiredTool
{
    private static readonly Dictionary<string, string> InstallHints = new(StringComparer.Ordinal)
    {
        ["redis-server"] = "apt-get install -y redis-server",
        ["redis-cli"] = "apt-get install -y redis-tools",
        ["nginx"] = "apt-get install -y nginx-light",
        ["node"] = "apt-get install -y nodejs npm",
        ["npm"] = "apt-get install -y nodejs npm",
        ["chromium"] = "apt-get install -y chromium",
        ["docker-compose"] = "apt-get install -y docker-compose",
    };

    /// <summary>The full path of <paramref name="name"/>, or an <see cref="InvalidOperationException"/> naming the install command.</summary>
    public static string Resolve(string name)
    {
        return TryResolve(name) ?? throw new InvalidOperationException(
            $"{name} is not installed: run `{InstallHint(name)}` (./eng/test.sh installs it)");
    }

    public static string? TryResolve(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // Debian puts nginx in /usr/sbin, which is not on PATH for every user.
        foreach (var dir in new[] { "/usr/sbin", "/usr/local/sbin", "/sbin" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string InstallHint(string name) =>
        InstallHints.TryGetValue(name, out var hint) ? hint : $"apt-get install -y {name}";
}
