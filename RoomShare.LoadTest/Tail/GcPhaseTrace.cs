using Microsoft.Diagnostics.Tracing;

namespace RoomShare.LoadTest.Tail;

/// <summary>The events of <see cref="GcPhases"/> in a <c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:4</c> file.</summary>
public static class GcPhaseTrace
{
    /// <summary>
    /// The pauses (their times from the session's start, as dotnet-trace began it), how long the trace ran (s, to its last
    /// event), and how many events the runtime dropped from it.
    /// </summary>
    public static (IReadOnlyList<GcPauseSplit> Pauses, double Seconds, int EventsLost) Read(string path)
    {
        int lost;
        var events = new List<GcPhaseEvent>();
        double lastMs = 0;
        try
        {
            using var source = new EventPipeEventSource(path);
            source.Clr.GCSuspendEEStart += e => events.Add(new GcPhaseEvent(GcPhaseEventKind.SuspendStart, e.TimeStampRelativeMSec));
            source.Clr.GCStart += e => events.Add(new GcPhaseEvent(GcPhaseEventKind.GcStart, e.TimeStampRelativeMSec, e.Depth));
            source.Clr.GCMarkWithType += e => events.Add(new GcPhaseEvent(GcPhaseEventKind.MarkEnd, e.TimeStampRelativeMSec, e.Type, e.HeapNum, e.Promoted));
            source.Clr.GCRestartEEStop += e => events.Add(new GcPhaseEvent(GcPhaseEventKind.RestartStop, e.TimeStampRelativeMSec));
            source.AllEvents += e => lastMs = Math.Max(lastMs, e.TimeStampRelativeMSec);
            source.Process();
            lost = source.EventsLost;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // TraceEvent throws many types for a file that is not a nettrace; all mean the same to the user.
            throw new TailInputException($"{path}: not a readable .nettrace file ({e.GetType().Name}: {e.Message})", e);
        }

        return (GcPhases.Split(events), lastMs / 1000, lost);
    }
}
