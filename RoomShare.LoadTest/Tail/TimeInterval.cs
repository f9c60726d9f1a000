namespace RoomShare.LoadTest.Tail;

/// <summary>A stretch of time, [StartNs, EndNs) in CLOCK_MONOTONIC ns.</summary>
public readonly record struct TimeInterval(long StartNs, long EndNs)
{
    public bool Overlaps(long startNs, long endNs) => StartNs < endNs && EndNs > startNs;

    public bool Contains(long startNs, long endNs) => startNs >= StartNs && endNs <= EndNs;
}
