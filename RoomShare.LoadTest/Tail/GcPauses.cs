using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace RoomShare.LoadTest.Tail;

/// <summary>A stretch of time, [StartNs, EndNs) in CLOCK_MONOTONIC ns.</summary>
public readonly record struct TimeInterval(long StartNs, long EndNs)
{
    public bool Overlaps(long startNs, long endNs) => StartNs < endNs && EndNs > startNs;
}

/// <summary>
/// The GC pauses in a <c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4</c> file: each
/// from <c>GCSuspendEEStart</c> (the runtime starts stopping the threads) to the next <c>GCRestartEEStop</c>
/// (they run again), the whole stretch in which the process's managed code could not run.
/// </summary>
public static class GcPauses
{
    public static IReadOnlyList<TimeInterval> Read(string path, ClockAnchor clock)
    {
        var pauses = new List<TimeInterval>();
        try
        {
            using var source = new EventPipeEventSource(path);
            DateTime? suspendedAt = null;
            // A second suspend before a restart keeps the first: the threads have been stopping since then.
            source.Clr.GCSuspendEEStart += (GCSuspendEETraceData e) => suspendedAt ??= e.TimeStamp.ToUniversalTime();
            source.Clr.GCRestartEEStop += (GCNoUserDataTraceData e) =>
            {
                if (suspendedAt is { } start)
                {
                    pauses.Add(new TimeInterval(clock.ToMonotonicNs(start), clock.ToMonotonicNs(e.TimeStamp.ToUniversalTime())));
                }

                suspendedAt = null;
            };
            source.Process();
        }
        catch (Exception e) when (e is not TailInputException and not OutOfMemoryException)
        {
            // TraceEvent throws many types for a file that is not a nettrace; all mean the same to the user.
            throw new TailInputException($"{path}: not a readable .nettrace file ({e.GetType().Name}: {e.Message})", e);
        }

        return pauses;
    }
}
