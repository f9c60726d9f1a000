using System.Runtime.InteropServices;

namespace RoomShare.LoadTest.Cluster;

/// <summary>SIGTERM to one pid we started (Process.Kill only sends SIGKILL, which would leave cluster.sh's children behind).</summary>
internal static class ProcessSignals
{
    private const int SigTerm = 15;

    /// <summary>Best effort: a pid that already exited (ESRCH) is what we wanted anyway.</summary>
    public static void Terminate(int pid) => _ = NativeMethods.Kill(pid, SigTerm);

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}
