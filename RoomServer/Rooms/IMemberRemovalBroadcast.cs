namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Tells every replica that a member was removed, so each closes the connections of that member it
/// holds (DESIGN.md §3 <c>Removed</c>). The room's <c>member_removed</c> event does this on a replica
/// that follows the room; this reaches the others too: one that holds a device of the member that is
/// not in the room (never joined, left, or its Join failed) while nobody there is. At most once, like
/// pub/sub: a lost message leaves such a connection open, with every call it makes refused.
/// </summary>
public interface IMemberRemovalBroadcast
{
    /// <summary>Sends the removal to every replica, this one included.</summary>
    Task PublishAsync(MemberRemovedNotice removal);

    /// <summary>Raised on every replica for each removal heard; handlers must not block.</summary>
    event Action<MemberRemovedNotice>? Heard;

    /// <summary>
    /// Raised after this replica's subscription was made again (Redis reconnected, the replica was deaf): a
    /// removal published while it was down was never heard, so the replica asks the store instead
    /// (Fanout/RemovalCatchUp). Raised at the first subscription too, when there is nothing to check yet.
    /// </summary>
    event Action? Resubscribed;
}
