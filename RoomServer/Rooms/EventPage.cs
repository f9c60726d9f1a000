namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// One page of a room's audit trail (DESIGN.md §4, §8: <c>GET /api/rooms/{roomId}/events</c>): its
/// events of version ≥ <c>from</c>, oldest first.
/// </summary>
/// <param name="Events">At most the page's limit, in version order, each exactly as it was sent.</param>
/// <param name="Next">The <c>from</c> of the next page, or null when the trail holds nothing after this page (yet).</param>
/// <param name="Oldest">
/// The oldest version the trail still holds, or null while it holds none. Past the room's audit
/// length the oldest events are trimmed: a <c>from</c> below this asks for events no longer on record.
/// </param>
public sealed record EventPage(IReadOnlyList<RoomEvent> Events, long? Next, long? Oldest)
{
    /// <summary>
    /// The page from what a store read: up to <paramref name="limit"/> + 1 events in version order,
    /// the extra one only saying that there is more.
    /// </summary>
    public static EventPage FromRead(IReadOnlyList<RoomEvent> upToLimitPlusOne, int limit, long? oldest) =>
        upToLimitPlusOne.Count > limit
            ? new EventPage(upToLimitPlusOne.Take(limit).ToList(), upToLimitPlusOne[limit].Version, oldest)
            : new EventPage(upToLimitPlusOne, null, oldest);
}
