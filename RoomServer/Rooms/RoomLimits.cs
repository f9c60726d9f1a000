namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The limits a store enforces inside a room's atomic change (README "Limits"): each member's write
/// rate, the room's member count, one member's live connections across replicas, the order records its outbox
/// holds undelivered (a state change that would write one more is refused), and how many bytes of
/// missed events a <c>Join(since)</c> may return before it answers a snapshot instead (a connection's
/// outgoing bound, <c>MaxPendingBytesPerConnection</c>: what dropped a member to a resync does not come back
/// as one reply; it refuses nothing). Every other limit reached answers <c>rate_limited</c> (DESIGN.md §5), never <c>forbidden</c>: clients read
/// <c>forbidden</c> on a call as "removed from the room" (§3), and a full room is not that.
/// </summary>
public sealed record RoomLimits(MemberOpRate MemberOps, int MaxMembers, int MaxConnectionsPerMember, int MaxMissedBytes, int MaxUnsettledOrderRecords)
{
    /// <summary>A new member past <see cref="MaxMembers"/>; a place frees when a member is removed.</summary>
    public static RoomException RoomFull(int maxMembers) =>
        new(RoomErrorCodes.RateLimited, $"the room is full: it has {maxMembers} members, the most it may have");

    /// <summary>A member's (or owner's) write past their bucket: it refills, so retrying later works.</summary>
    public static RoomException WritesTooFast(MemberOpRate rate) =>
        new(RoomErrorCodes.RateLimited, $"this member is changing the room too fast (at most {rate.PerSecond} writes a second, bursts of {rate.Burst}); slow down and retry");

    /// <summary>
    /// A state change while <see cref="MaxUnsettledOrderRecords"/> or more are unsettled ("at least": an operator's retried
    /// dead letters, and an older replica's transitions in a rolling upgrade, are not refused): they settle as they are delivered.
    /// </summary>
    public static RoomException TooManyOrderRecords(int maxRecords) =>
        new(RoomErrorCodes.RateLimited, $"this room already has at least {maxRecords} order records waiting to be delivered to the restaurant's systems (RoomServer__Limits__MaxUnsettledOrderRecords: at most {maxRecords}); its state can change again once they are delivered or dead-lettered");

    /// <summary>One connection more than <see cref="MaxConnectionsPerMember"/>: closing another frees it, so <c>rate_limited</c>.</summary>
    public static RoomException TooManyConnections(int maxConnections) =>
        new(RoomErrorCodes.RateLimited, $"this member already has {maxConnections} open connections to the room; close one and retry");
}
