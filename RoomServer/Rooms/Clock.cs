using System.Globalization;

namespace RoomShare.RoomServer.Rooms;

/// <summary>The <c>at</c> stamp of events: ISO-8601 UTC with milliseconds and a Z.</summary>
public static class Clock
{
    public static string Stamp(this TimeProvider time) => Stamp(time.GetUtcNow());

    /// <summary>Any moment in the same form (a scheduled one, e.g. a delivery's next attempt).</summary>
    public static string Stamp(DateTimeOffset moment) =>
        moment.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
