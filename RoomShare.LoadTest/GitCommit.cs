using System.Diagnostics;

namespace RoomShare.LoadTest;

/// <summary>The measured checkout's commit (and whether it had local changes), for the report.</summary>
public static class GitCommit
{
    public static string? Describe(string repo)
    {
        try
        {
            var start = new ProcessStartInfo("git", ["-C", repo, "describe", "--always", "--dirty", "--abbrev=12"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var git = Process.Start(start);
            if (git is null || !git.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                return null;
            }

            return git.ExitCode == 0 ? git.StandardOutput.ReadToEnd().Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on PATH
        }
    }
}
