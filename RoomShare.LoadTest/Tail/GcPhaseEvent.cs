namespace RoomShare.LoadTest.Tail;

public enum GcPhaseEventKind
{
    /// <summary><c>GCSuspendEEStart</c>: the runtime starts stopping the threads.</summary>
    SuspendStart,

    /// <summary><c>GCStart</c>: a collection begins (<see cref="GcPhaseEvent.Value"/>: its generation).</summary>
    GcStart,

    /// <summary>
    /// <c>GCMarkWithType</c>: a mark phase ended on one heap (<see cref="GcPhaseEvent.Value"/>: its root type;
    /// <see cref="GcPhaseEvent.Heap"/>: the heap; <see cref="GcPhaseEvent.Bytes"/>: what it marked).
    /// </summary>
    MarkEnd,

    /// <summary><c>GCRestartEEStop</c>: the threads run again.</summary>
    RestartStop,
}

/// <summary>One event of a GC pause, in milliseconds on the trace's clock.</summary>
public readonly record struct GcPhaseEvent(GcPhaseEventKind Kind, double Ms, int Value = 0, int Heap = 0, long Bytes = 0);
