using System.Runtime.InteropServices;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Sends SIGTERM: <see cref="System.Diagnostics.Process.Kill()"/> only sends SIGKILL, and a graceful
/// stop (Redis flushing its AOF, a replica running its shutdown hooks) needs SIGTERM.
/// </summary>
internal static class PosixSignal
{
    private const int SigTerm = 15;

    public static void Terminate(int pid)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("SIGTERM needs a POSIX system; the test kit runs on Linux.");
        }

        if (NativeMethods.Kill(pid, SigTerm) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int NoSuchProcess = 3; // ESRCH: it already exited, which is what we wanted.
            if (errno != NoSuchProcess)
            {
                throw new InvalidOperationException($"kill({pid}, SIGTERM) failed with errno {errno}");
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}
