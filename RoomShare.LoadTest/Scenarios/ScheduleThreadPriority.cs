using System.Globalization;
using System.Runtime.InteropServices;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// Runs the open-loop schedule's thread at nice −10, where the box allows it (root, or CAP_SYS_NICE). On a
/// 2-core box shared with the servers, the thread's wake-ups waited behind them: its send lag crossed the
/// 10 ms limit with cores to spare, voiding steps, so capacities read only as "generator-limited" bounds.
/// Real clients run on machines of their own and are never late because the server is busy. Only this
/// thread is raised: the sockets' reads, the thread pool and every process the tool starts keep the normal
/// priority (.NET's <c>ThreadPriority</c> does nothing on Linux, so this asks the kernel directly). A new
/// thread inherits its creator's nice value, and the thread pool starts workers from whichever thread queues
/// work, so the thread is also marked reset-on-fork: what it starts begins at nice 0. Assumes the tool itself
/// runs at nice 0.
/// </summary>
public static class ScheduleThreadPriority
{
    public const int Nice = -10;

    private const int NotTried = int.MinValue;
    private const int Raised = 0;
    private const int NotLinux = -1;
    private const int NoSuchCall = -2;
    private const int Eperm = 1;
    private const int Eacces = 13;

    private static int _outcome = NotTried; // Raised, NotLinux, or the errno of the refused call

    /// <summary>What the report says: whether the last schedule's thread ran raised, or why not.</summary>
    public static string Describe() => Volatile.Read(ref _outcome) switch
    {
        Raised => $"the open-loop schedule's thread at nice {Nice.ToString(CultureInfo.InvariantCulture)} (nothing else raised)",
        NotLinux => "the open-loop schedule's thread at normal priority (not Linux)",
        NoSuchCall => "the open-loop schedule's thread at normal priority (the C library lacks setpriority or sched_setscheduler)",
        Eperm or Eacces => "the open-loop schedule's thread at normal priority (raising it was not permitted: not root, no CAP_SYS_NICE)",
        NotTried => "no open-loop schedule ran",
        var errno => $"the open-loop schedule's thread at normal priority (raising it failed, errno {errno.ToString(CultureInfo.InvariantCulture)})",
    };

    /// <summary>Raises the calling thread; best effort, remembered for <see cref="Describe"/>.</summary>
    public static void RaiseCurrentThread() => Volatile.Write(ref _outcome, OperatingSystem.IsLinux() ? TryRaise() : NotLinux);

    private static int TryRaise()
    {
        // Thread id 0 is the calling thread for both calls. Reset-on-fork first: raised without it, the thread
        // would hand its nice value to the pool workers it starts.
        var noPriority = 0;
        try
        {
            return NativeMethods.SchedSetScheduler(0, SchedOther | SchedResetOnFork, ref noPriority) == 0
                && NativeMethods.SetPriority(PrioProcess, 0, Nice) == 0
                ? Raised
                : Marshal.GetLastPInvokeError();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return NoSuchCall;
        }
    }

    private const int PrioProcess = 0; // with a thread id (0: the caller), Linux sets that one thread's nice value
    private const int SchedOther = 0;
    private const int SchedResetOnFork = 0x40000000;

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SetPriority(int which, int who, int prio);

        [DllImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SchedSetScheduler(int pid, int policy, ref int schedPriority);
    }
}
