namespace RoomShare.LoadTest.Tail;

/// <summary>How many of a group of changes waited across a kdamond run, a GC pause, either, or neither.</summary>
public sealed record OverlapCounts(int Changes, int Kdamond, int Gc, int Either, int Neither);
