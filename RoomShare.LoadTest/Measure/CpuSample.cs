using System.Diagnostics;

namespace RoomShare.LoadTest.Measure;

/// <summary>CPU seconds of each measured process and of the whole box at one instant.</summary>
public sealed class CpuSample
{
    private CpuSample(long timestamp, IReadOnlyDictionary<MeasuredProcess, double?> seconds, (double Busy, double Total) box)
    {
        Timestamp = timestamp;
        Seconds = seconds;
        Box = box;
    }

    public long Timestamp { get; }

    public IReadOnlyDictionary<MeasuredProcess, double?> Seconds { get; }

    public (double Busy, double Total) Box { get; }

    public static CpuSample Take(IReadOnlyList<MeasuredProcess> processes) =>
        new(Stopwatch.GetTimestamp(), processes.ToDictionary(p => p, CpuSecondsOf), ProcFs.BoxCpuSeconds());

    // Redis's AOF-rewrite child is the store's work too, counted while it runs (nginx's workers are measured on their own).
    private static double? CpuSecondsOf(MeasuredProcess process) =>
        process.Kind == ProcessKind.Redis ? ProcFs.CpuSecondsWithChildren(process.Pid) : ProcFs.CpuSeconds(process.Pid);
}
