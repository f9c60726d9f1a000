using System.Globalization;

namespace RoomShare.LoadTest.Results;

/// <summary>Where a run's results go (<c>--out</c>), made before any cluster comes up, so a bad path costs nothing.</summary>
public static class ResultsFolder
{
    /// <summary>
    /// Creates <paramref name="given"/>, or <c>&lt;repo&gt;/artifacts/bench/&lt;UTC timestamp&gt;</c> without one, and returns its
    /// full path. A path that cannot be a folder (a file in the way, no permission, a bad name) is the user's mistake:
    /// an <see cref="ArgumentException"/> that says so. Parents it made before failing stay (empty folders).
    /// </summary>
    public static string Create(string? given, string repo, DateTime utcNow)
    {
        var path = given ?? Path.Combine(repo, "artifacts", "bench", utcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        try
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(full);
            return full;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Without --out the default under the checkout failed (a read-only checkout, say): name what was tried.
            var what = given is null ? $"the default results folder '{path}'" : $"--out '{path}'";
            throw new ArgumentException($"{what}: it cannot be made ({ex.Message}); pass --out", ex);
        }
    }
}
