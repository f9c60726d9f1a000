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
        new(Stopwatch.GetTimestamp(), processes.ToDictionary(p => p, p => ProcFs.CpuSeconds(p.Pid)), ProcFs.BoxCpuSeconds());
}
