using System.Globalization;

namespace RoomShare.LoadTest.Results;

/// <summary>Where a run's results go (<c>--out</c>), made before any cluster comes up, so a bad path costs nothing.</summary>
public static class ResultsFolder
{
    /// <summary>
    /// Creates <paramref name="given"/>, or <c>&lt;repo&gt;/artifacts/bench/&lt;UTC timestamp&gt;</c> without one, and returns its
    /// full path. A path that cannot be a folder (a file in the way, no permission, a bad name) is the user's mistake:
    /// an <see cref="ArgumentException"/> that says so.
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"--out '{path}': the results folder cannot be made there ({ex.Message})", ex);
        }
    }
}
