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
/// work, so the thread is also marked reset-on-fork: what it starts begins at nice 0.
/// </summary>
public static class ScheduleThreadPriority
{
    public const int Nice = -10;

    private static int _outcome; // 0 not tried, 1 raised, −1 refused

    /// <summary>What the report says: whether the schedule's thread ran raised, or why not.</summary>
    public static string Describe() => Volatile.Read(ref _outcome) switch
    {
        1 => $"the open-loop schedule's thread at nice {Nice.ToString(CultureInfo.InvariantCulture)} (nothing else raised)",
        -1 => "the open-loop schedule's thread at normal priority (raising it was not permitted: not root, no CAP_SYS_NICE)",
        _ => "no open-loop schedule ran",
    };

    /// <summary>Raises the calling thread; best effort, remembered for <see cref="Describe"/>.</summary>
    public static void RaiseCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            Volatile.Write(ref _outcome, -1);
            return;
        }

        // Reset-on-fork first: raised without it, the thread would hand its nice value to the pool workers it starts.
        var tid = NativeMethods.GetTid();
        var noPriority = 0;
        var raised = NativeMethods.SchedSetScheduler(tid, SchedOther | SchedResetOnFork, ref noPriority) == 0
            && NativeMethods.SetPriority(PrioProcess, tid, Nice) == 0;
        Volatile.Write(ref _outcome, raised ? 1 : -1);
    }

    private const int PrioProcess = 0; // with a thread id, Linux sets that one thread's nice value
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

        [DllImport("libc", EntryPoint = "gettid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int GetTid();
    }
}
