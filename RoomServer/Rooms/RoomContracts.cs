namespace RoomShare.RoomServer.Rooms;

/// <summary>A client's position in a room: which incarnation (epoch) and how far (version).</summary>
public sealed record RoomPosition(string Epoch, long Version);

/// <summary>The periodic <c>Position</c> push: the room's latest position.</summary>
public sealed record RoomPositionMessage(string RoomId, string Epoch, long Version);

/// <summary>
/// The <c>Presence</c> push: a member came online or went offline. Not part of the event versions,
/// but ordered: <see cref="Seq"/> grows with every announcement in the room, and a snapshot carries
/// the current one, so a client ignores a Presence older than what it already knows.
/// </summary>
public sealed record PresenceChange(string RoomId, string MemberId, string DisplayName, bool Online, long Seq);

/// <summary>One dish on a room's menu. Money is integer minor units.</summary>
public sealed record MenuItem(string Id, string Name, long PriceMinor);

public sealed record SnapshotMember(string MemberId, string DisplayName, bool Online);

public sealed record SnapshotChoice(string MemberId, string MenuId, int Quantity);

public sealed record SnapshotTotal(string MenuId, int Quantity, long AmountMinor);

/// <summary>The whole room at one version (DESIGN.md §3). Zero quantities are absent.</summary>
public sealed record RoomSnapshot(
    string RoomId,
    string Name,
    string Epoch,
    long Version,
    string State,
    IReadOnlyList<MenuItem> Menu,
    IReadOnlyList<SnapshotMember> Members,
    IReadOnlyList<SnapshotChoice> Choices,
    IReadOnlyList<SnapshotTotal> Totals,
    long TotalMinor,
    long PresenceSeq);

/// <summary>
/// What <c>Join</c> returns: exactly one of <see cref="Snapshot"/> and <see cref="Missed"/> is set.
/// </summary>
public sealed record JoinResult(
    RoomPosition Position,
    RoomSnapshot? Snapshot,
    IReadOnlyList<RoomEvent>? Missed,
    string Replica);

/// <summary>The acknowledgement of a choice change.</summary>
public sealed record ChoiceAck(long Version, int Quantity);

/// <summary>The acknowledgement of a room-level change.</summary>
public sealed record VersionAck(long Version);

/// <summary>The <c>Removed</c> push: sent to every connection of a removed member, on any replica.</summary>
public sealed record MemberRemovedNotice(string RoomId, string MemberId, string By);

/// <summary>The <c>Announcement</c> push: an operator message to every connected client on every replica.</summary>
public sealed record Announcement(string Id, string Kind, string Message, string At);

/// <summary>The acknowledgement of an announcement: its id.</summary>
public sealed record AnnouncementAck(string Id);
