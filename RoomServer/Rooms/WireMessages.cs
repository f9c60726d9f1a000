namespace RoomShare.RoomServer.Rooms;

// What the hub sends clients besides RoomEvent: its Join result and its pushes (DESIGN.md §3).

/// <summary>
/// What <c>Join</c> returns: exactly one of <see cref="Snapshot"/> and <see cref="Missed"/> is set.
/// </summary>
public sealed record JoinResult(
    RoomPosition Position,
    RoomSnapshot? Snapshot,
    IReadOnlyList<RoomEvent>? Missed,
    string Replica);

/// <summary>The periodic <c>Position</c> push: the room's latest position.</summary>
public sealed record RoomPositionMessage(string RoomId, string Epoch, long Version);

/// <summary>
/// The <c>Presence</c> push: a member came online or went offline. Not part of the event versions,
/// but ordered: <see cref="Seq"/> grows with every announcement in the room, and a snapshot carries
/// the current one, so a client ignores a Presence older than what it already knows.
/// </summary>
public sealed record PresenceChange(string RoomId, string MemberId, string DisplayName, bool Online, long Seq);

/// <summary>
/// The <c>Removed</c> push: sent to every connection of a removed member, on any replica. <see cref="By"/> is who
/// removed them (as in <c>member_removed</c>), or null where the replica closing the connection found the removal
/// by its generation alone (a room tick's sweep, a catch-up after a lost broadcast) and does not know.
/// </summary>
public sealed record MemberRemovedNotice(string RoomId, string MemberId, string? By);

/// <summary>The <c>Announcement</c> push: an operator message to every connected client on every replica.</summary>
public sealed record Announcement(string Id, string Kind, string Message, string At);

/// <summary>The acknowledgement of an announcement: its id.</summary>
public sealed record AnnouncementAck(string Id);
