namespace RoomShare.RoomServer.Orders;

/// <summary>
/// The wait before the next webhook attempt when the receiver asked for one (<c>Retry-After</c>, 429 and
/// 503 usually): its wish, kept within the configured backoff's bounds. Never sooner than
/// <c>RetryBaseDelayMilliseconds</c>, so a "0" cannot spend every attempt at once; never later than
/// <c>RetryMaxDelayMilliseconds</c>, so a day-long wish cannot hold the room's later records for days.
/// </summary>
public static class RetryAfterDelay
{
    /// <summary>The bounded wish, or null without one (the exponential backoff with jitter applies: <see cref="RetryBackoff"/>).</summary>
    public static TimeSpan? Bounded(HttpResponseMessage? response, TimeSpan min, TimeSpan max, DateTimeOffset now)
    {
        TimeSpan? wish = response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => null,
        };

        return wish is not { } asked ? null
            : asked < min ? min
            : asked > max ? max
            : asked;
    }
}
