namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>A clock that moves only when the test says so: for code that reads the time through <see cref="TimeProvider"/>.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
