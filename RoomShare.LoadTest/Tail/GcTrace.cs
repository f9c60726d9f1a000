namespace RoomShare.LoadTest.Tail;

/// <summary>
/// One process's GC pauses, and the stretch its trace covered: a change outside it cannot be said to have missed
/// every pause, so it is left out rather than counted as "no GC".
/// </summary>
public sealed record GcTrace(string Path, IReadOnlyList<TimeInterval> Pauses, TimeInterval Span);
