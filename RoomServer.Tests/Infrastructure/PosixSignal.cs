using System.Runtime.InteropServices;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Sends SIGTERM, SIGSTOP and SIGCONT: <see cref="System.Diagnostics.Process.Kill()"/> only sends
/// SIGKILL, a graceful stop (Redis flushing its AOF, a replica running its shutdown hooks) needs
/// SIGTERM, and a frozen process (the chaos battery's SIGSTOP stage) needs the other two.
/// </summary>
internal static class PosixSignal
{
    private const int SigTerm = 15;

    // The numbers of SIGSTOP and SIGCONT differ between Linux and macOS.
    private static readonly int SigStop = OperatingSystem.IsMacOS() ? 17 : 19;
    private static readonly int SigCont = OperatingSystem.IsMacOS() ? 19 : 18;

    public static void Terminate(int pid) => Send(pid, SigTerm, "SIGTERM");

    /// <summary>Freezes the process: it keeps its sockets but answers nothing until <see cref="Continue"/>.</summary>
    public static void Stop(int pid) => Send(pid, SigStop, "SIGSTOP");

    public static void Continue(int pid) => Send(pid, SigCont, "SIGCONT");

    private static void Send(int pid, int signal, string name)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException($"{name} needs a POSIX system; the test kit runs on Linux.");
        }

        if (NativeMethods.Kill(pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int NoSuchProcess = 3; // ESRCH: it already exited, which is what we wanted.
            if (errno != NoSuchProcess)
            {
                throw new InvalidOperationException($"kill({pid}, {name}) failed with errno {errno}");
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
