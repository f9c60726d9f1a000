namespace RoomShare.LoadTest.Tail;

/// <summary>
/// One stretch a task ran on a CPU, [StartNs, EndNs) in CLOCK_MONOTONIC ns. Pid is the process (the thread
/// group), null for <c>&lt;idle&gt;</c>.
/// </summary>
public readonly record struct SchedRun(int Cpu, long StartNs, long EndNs, string Name, int? Pid)
{
    public long LengthNs => EndNs - StartNs;
}
