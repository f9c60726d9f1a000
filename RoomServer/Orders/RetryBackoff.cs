namespace RoomShare.RoomServer.Orders;

/// <summary>
/// The wait before a webhook's next attempt when the receiver asked for none: <c>RetryBaseDelayMilliseconds</c>
/// doubled per retry up to <c>RetryMaxDelayMilliseconds</c>, spread ±25 % at random (jitter, so rooms failing
/// together do not retry together), and kept between those two bounds. The library's decorrelated jitter
/// could wait a few milliseconds, far below the base: two attempts spent at once on a receiver that is down.
/// </summary>
public static class RetryBackoff
{
    private const double Spread = 0.25;

    /// <summary>The wait before retry <paramref name="retry"/> (0 for the first), <paramref name="random"/> uniform in [0, 1).</summary>
    public static TimeSpan Delay(int retry, TimeSpan min, TimeSpan max, double random)
    {
        var exponential = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 40)));
        var jittered = exponential * (1 - Spread + (2 * Spread * random));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, min.TotalMilliseconds, max.TotalMilliseconds));
    }
}
