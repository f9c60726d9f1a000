namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Reading a room's audit trail (<c>rs:{id}:audit</c>, entry id = version, field <c>e</c> = the event's
/// JSON) straight from Redis: the only stored copy of its events, which Join(since) replays from.
/// </summary>
public static class AuditTrail
{
    /// <summary>
    /// EVAL with KEYS[1] the trail and ARGV[1] the first entry id ("-" for all, "&lt;version&gt;-0"):
    /// the events' JSON, oldest first, as a flat list (XRANGE's entries are nested).
    /// </summary>
    public const string EventsScript =
        "local out = {} for i, e in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], '+')) do out[i] = e[2][2] end return out";

    public static string Key(string roomId) => $"rs:{{{roomId}}}:audit";
}
