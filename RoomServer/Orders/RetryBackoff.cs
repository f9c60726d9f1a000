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

    /// <summary>
    /// The wait before retry <paramref name="retry"/> (0 for the first; the record's, counting those of a replica that held it
    /// before: a takeover goes on with the series), <paramref name="random"/> uniform in [0, 1).
    /// The spread is drawn within the bounds, not clamped after: clamped, half the first waits were the base
    /// exactly and, once capped, half the waits the maximum exactly — rooms failing together retried together.
    /// </summary>
    public static TimeSpan Delay(int retry, TimeSpan min, TimeSpan max, double random)
    {
        var floor = min.TotalMilliseconds;
        var ceiling = Math.Max(floor, max.TotalMilliseconds);
        var exponential = Math.Min(ceiling, floor * Math.Pow(2, Math.Clamp(retry, 0, 40)));
        var low = Math.Max(floor, exponential * (1 - Spread));
        var high = Math.Min(ceiling, exponential * (1 + Spread));
        return TimeSpan.FromMilliseconds(low + ((high - low) * random));
    }
}
