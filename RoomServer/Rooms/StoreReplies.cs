namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// What the store returns for a join: the position and either a snapshot or the missed events. With
/// missed events comes every member's current presence, which a resuming client may have missed
/// (presence is not versioned, so history cannot replay it).
/// </summary>
public sealed record JoinOutcome(
    RoomPosition Position,
    RoomSnapshot? Snapshot,
    IReadOnlyList<RoomEvent>? Missed,
    IReadOnlyList<SnapshotMember>? Presence = null,
    long PresenceSeq = 0);

/// <summary>
/// What a room's tick returns: the position to send its members, and those of the swept connections
/// whose member was removed after their token was issued — the replica closes them, in case it
/// missed the removal's event (a lost message must not leave a removed member reading the room).
/// </summary>
public sealed record SweepOutcome(RoomPosition Position, IReadOnlyList<LocalConnection> Removed);

/// <summary>The acknowledgement of a choice change (the hub returns it as is).</summary>
public sealed record ChoiceAck(long Version, int Quantity);

/// <summary>
/// A choice change's result: its acknowledgement, and whether it was answered from its opId (<paramref name="Replayed"/>:
/// a retry of a write the room has already applied, DESIGN.md §2 — nothing was applied this time).
/// </summary>
public sealed record ChoiceOutcome(ChoiceAck Ack, bool Replayed);

/// <summary>The acknowledgement of a room-level change (the hub and the API return it as is).</summary>
public sealed record VersionAck(long Version);

/// <summary>
/// A removal's acknowledgement: <paramref name="AlreadyRemoved"/> when the member had been removed before and
/// was not back (a retry, or two removals at once), so there was no event and nobody is told again.
/// </summary>
public sealed record RemovalAck(long Version, bool AlreadyRemoved)
{
    public VersionAck ToVersionAck() => new(Version);
}

/// <summary>What <see cref="IRoomStore.CreateOnceAsync"/> found: the room made for an <c>Idempotency-Key</c> (its id and epoch drawn for the key).</summary>
public enum RoomCreation
{
    /// <summary>Created now.</summary>
    Created,

    /// <summary>Created by an earlier request with these ids, and still there: nothing done.</summary>
    Exists,

    /// <summary>Created by an earlier request with these ids, since deleted or expired: not made again.</summary>
    Gone,

    /// <summary>Another room has the id: draw another.</summary>
    Taken,

    /// <summary>Asked to replay only, and no room was made with these ids: nothing done.</summary>
    NotCreated,
}
