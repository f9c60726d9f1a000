using System.Diagnostics;

namespace RoomShare.LoadTest.Measure;

/// <summary>
/// CPU used between two samples, in cores (CPU seconds per wall second), per process and per kind,
/// and in µs per delivered event (a kind's CPU seconds ÷ the events delivered in the same window).
/// <see cref="OtherCores"/> is the rest of the box (busy minus every measured process): other work on a
/// shared machine, the noise a reader must weigh the figures against.
/// </summary>
public sealed record CpuUsage(
    double WindowSeconds,
    IReadOnlyDictionary<string, double?> CoresByProcess,
    double ReplicaCores,
    double NginxCores,
    double RedisCores,
    double GeneratorCores,
    double BoxBusyCores,
    double OtherCores,
    double? ReplicaMicrosPerEvent,
    double? NginxMicrosPerEvent,
    double? RedisMicrosPerEvent,
    double? GeneratorMicrosPerEvent)
{
    public static CpuUsage Between(CpuSample start, CpuSample end, long deliveries)
    {
        // A window of (almost) no time would divide by zero; JSON has no NaN.
        var seconds = Math.Max(Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds, 0.001);
        var used = start.Seconds.Keys.ToDictionary(
            p => p,
            p => start.Seconds[p] is { } a && end.Seconds.GetValueOrDefault(p) is { } b ? b - a : (double?)null);
        double Sum(ProcessKind kind) => used.Where(u => u.Key.Kind == kind).Sum(u => u.Value ?? 0);
        double? PerEvent(ProcessKind kind) => deliveries > 0 ? Sum(kind) * 1e6 / deliveries : null;
        return new CpuUsage(
            Math.Round(seconds, 3),
            used.ToDictionary(u => u.Key.Name, u => u.Value is { } s ? Math.Round(s / seconds, 3) : (double?)null, StringComparer.Ordinal),
            Math.Round(Sum(ProcessKind.Replica) / seconds, 3),
            Math.Round(Sum(ProcessKind.Nginx) / seconds, 3),
            Math.Round(Sum(ProcessKind.Redis) / seconds, 3),
            Math.Round(Sum(ProcessKind.Generator) / seconds, 3),
            Math.Round((end.Box.Busy - start.Box.Busy) / seconds, 3),
            Math.Round(Math.Max(0, (end.Box.Busy - start.Box.Busy) - used.Values.Sum(v => v ?? 0)) / seconds, 3),
            Round(PerEvent(ProcessKind.Replica)),
            Round(PerEvent(ProcessKind.Nginx)),
            Round(PerEvent(ProcessKind.Redis)),
            Round(PerEvent(ProcessKind.Generator)));
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;
}
