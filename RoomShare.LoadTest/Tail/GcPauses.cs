using Microsoft.Diagnostics.Tracing;

namespace RoomShare.LoadTest.Tail;

/// <summary>
/// The GC pauses in a <c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4</c> file: each
/// from <c>GCSuspendEEStart</c> to the next <c>GCRestartEEStop</c>, the whole stretch in which the process's
/// managed code could not run.
/// </summary>
public static class GcPauses
{
    public static GcTrace Read(string path, ClockAnchor clock)
    {
        var events = new List<GcEvent>();
        long lastNs = long.MinValue;
        DateTime sessionStart;
        try
        {
            using var source = new EventPipeEventSource(path);
            sessionStart = source.SessionStartTime.ToUniversalTime();
            // The raw counter, not TimeStamp: on Linux it is CLOCK_MONOTONIC in ns, the ack timeline's and perf's
            // clock, where TimeStamp goes through the file's UTC sync time, kept to the millisecond.
#pragma warning disable CS0618 // "not obsolete but discouraged": the relative times would need the same sync time
            source.Clr.GCSuspendEEStart += e => events.Add(new GcEvent(GcEventKind.SuspendStart, e.TimeStampQPC));
            source.Clr.GCRestartEEStop += e => events.Add(new GcEvent(GcEventKind.RestartStop, e.TimeStampQPC));
            // The session's end: its last event (the rundown dotnet-trace asks for when it stops).
            source.AllEvents += e => lastNs = Math.Max(lastNs, e.TimeStampQPC);
#pragma warning restore CS0618
            source.Process();
        }
        catch (Exception e) when (e is not TailInputException and not OutOfMemoryException)
        {
            // TraceEvent throws many types for a file that is not a nettrace; all mean the same to the user.
            throw new TailInputException($"{path}: not a readable .nettrace file ({e.GetType().Name}: {e.Message})", e);
        }

        // Its start is only known in UTC (to the millisecond): early enough for an edge nothing is measured at.
        var startNs = clock.ToMonotonicNs(sessionStart);
        return new GcTrace(path, Pair(events), new TimeInterval(startNs, Math.Max(startNs, lastNs)));
    }

    /// <summary>
    /// Pauses from events in time order. A second suspend before a restart keeps the first (the threads have been
    /// stopping since then); a restart with no suspend before it (the trace began mid-pause) and a suspend with no
    /// restart after it (it ended mid-pause) make no pause.
    /// </summary>
    public static IReadOnlyList<TimeInterval> Pair(IEnumerable<GcEvent> events)
    {
        var pauses = new List<TimeInterval>();
        long? suspendedAt = null;
        foreach (var e in events)
        {
            if (e.Kind == GcEventKind.SuspendStart)
            {
                suspendedAt ??= e.Ns;
            }
            else
            {
                if (suspendedAt is { } start)
                {
                    pauses.Add(new TimeInterval(start, e.Ns));
                }

                suspendedAt = null;
            }
        }

        return pauses;
    }
}
