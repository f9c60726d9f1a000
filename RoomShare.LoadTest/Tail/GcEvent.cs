namespace RoomShare.LoadTest.Tail;

public enum GcEventKind
{
    /// <summary><c>GCSuspendEEStart</c>: the runtime starts stopping the threads.</summary>
    SuspendStart,

    /// <summary><c>GCRestartEEStop</c>: they run again.</summary>
    RestartStop,
}

/// <summary>One of the two events that bound a GC pause, at CLOCK_MONOTONIC ns.</summary>
public readonly record struct GcEvent(GcEventKind Kind, long Ns);
