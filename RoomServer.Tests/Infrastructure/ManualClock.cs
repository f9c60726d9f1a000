namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>A clock that moves only when the test says so: for code that reads the time through <see cref="TimeProvider"/>.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>The monotonic clock moves with the manual one (ticks of 100 ns).</summary>
    public override long GetTimestamp() => _now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => _now += by;
}
