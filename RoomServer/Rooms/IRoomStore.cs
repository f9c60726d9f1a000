namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The storage seam: where room state lives and how every change is applied. Two implementations
/// (embedded in-memory, Redis) pass the same contract suite. Every change is atomic: it validates,
/// applies, bumps the version, appends to the room's history (its audit trail) and publishes the event on the room's
/// backplane channel in version order — or changes nothing and throws a <see cref="RoomException"/>.
/// A store that cannot reach its backing service within its deadline throws <c>unavailable</c>
/// and never acknowledges a change it cannot vouch for. Every write takes one record (StoreWrites);
/// limits (replay length, audit length, idempotency window, max quantity, lease, grace) come from the store's options.
/// </summary>
public interface IRoomStore
{
    /// <summary>Creates a room at version 0 in state <c>open</c>. Returns false if the id is taken.</summary>
    Task<bool> CreateAsync(NewRoom room, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the room as <see cref="CreateAsync"/>, once for its id and epoch (drawn for an
    /// <c>Idempotency-Key</c> and recorded before): a room with this id and epoch is <see cref="RoomCreation.Exists"/>,
    /// and one made with them and gone since (a mark beside the room, kept RoomServer:IdempotencyKeyHours) is
    /// <see cref="RoomCreation.Gone"/> — neither is made again. The check and the mark go with the creation, atomically.
    /// The mark decides, not the room's current epoch (a failover renews that). With <paramref name="replayOnly"/>
    /// nothing is created: a room not made with these ids is <see cref="RoomCreation.NotCreated"/>.
    /// </summary>
    Task<RoomCreation> CreateOnceAsync(NewRoom room, bool replayOnly, CancellationToken cancellationToken);

    /// <summary>Whether the room exists (not expired, not deleted).</summary>
    Task<bool> ExistsAsync(string roomId, CancellationToken cancellationToken);

    Task<RoomSnapshot> GetSnapshotAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the room's audit trail: every event the room sent (further back than Join replays),
    /// kept for the room's lifetime (its TTL) up to the configured audit length, oldest trimmed first.
    /// Returns the events of version ≥ <paramref name="from"/>, at most <paramref name="limit"/>.
    /// </summary>
    Task<EventPage> ReadEventsAsync(string roomId, long from, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Registers the member (a <c>member</c> event the first time), marks the connection live
    /// (a <c>Presence</c> online message when the member was offline), and returns either the events
    /// after <see cref="JoinRequest.Since"/> (at most the history length of them, from the audit trail)
    /// or a snapshot when <c>since</c> is further behind, the epoch differs or <c>since</c> is ahead of the room.
    /// </summary>
    Task<JoinOutcome> JoinAsync(JoinRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Sets or adjusts one choice. A known <see cref="ChoiceChange.OpId"/> returns the original result
    /// and changes nothing (<see cref="ChoiceOutcome.Replayed"/>); a change to the same quantity sends no
    /// event and returns the current version.
    /// </summary>
    Task<ChoiceOutcome> ChangeChoiceAsync(ChoiceChange change, CancellationToken cancellationToken);

    /// <summary>
    /// The original result of the member's change with this opId while the idempotency window holds it,
    /// else null — for a retry whose arguments no longer pass validation (a known opId answers as it did,
    /// whatever its arguments). Refuses as a change would first: <c>room_not_found</c>, <c>forbidden</c>.
    /// </summary>
    Task<ChoiceAck?> ReplayChoiceAsync(ChoiceReplay replay, CancellationToken cancellationToken);

    /// <summary>Moves the room through the lifecycle of <see cref="RoomStates"/>; the same state is a no-op.</summary>
    Task<VersionAck> SetStateAsync(StateChange change, CancellationToken cancellationToken);

    Task<VersionAck> RefreshAsync(RefreshRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a member for good (a <c>member_removed</c> event): their choices, their membership and
    /// their presence go in the same step. A member removed before and not back: no event, the current
    /// version (<see cref="RemovalAck.AlreadyRemoved"/>), and the removal generation goes up all the same.
    /// <c>invalid_argument</c> for a member the room never had or for an owner.
    /// </summary>
    Task<RemovalAck> RemoveMemberAsync(MemberRemoval removal, CancellationToken cancellationToken);

    /// <summary>
    /// The member's removal generation in the room (0 if never removed; each removal, and each repeat of
    /// one, raises it): a token carries the value it was issued with and is refused once the member's is
    /// higher (DESIGN.md §3).
    /// </summary>
    Task<long> RemovalGenerationAsync(string roomId, string memberId, CancellationToken cancellationToken);

    Task<VersionAck> PublishNoticeAsync(NoticePublication notice, CancellationToken cancellationToken);

    /// <summary>Sends a last <c>state: deleted</c> event, then removes the room.</summary>
    Task DeleteAsync(RoomDeletion deletion, CancellationToken cancellationToken);

    /// <summary>
    /// A connection left the room. When it was the member's last live one, the member's grace period
    /// starts; <see cref="SweepPresenceAsync"/> announces them offline once it has passed.
    /// </summary>
    Task ConnectionLeftAsync(ConnectionDeparture departure, CancellationToken cancellationToken);

    /// <summary>
    /// The replica's periodic room tick: renews (and re-creates, should another replica have swept
    /// them during an outage) the leases of this replica's live connections in the room — announcing
    /// their members online again if needed — drops expired ones (a dead replica's), announces offline
    /// every member whose grace period has passed with no live connection, and returns the position
    /// with the given connections whose member was removed after their token was issued.
    /// </summary>
    Task<SweepOutcome> SweepPresenceAsync(PresenceSweep sweep, CancellationToken cancellationToken);

    /// <summary>
    /// Which part of the store serves <paramref name="roomId"/> (a Redis Cluster master, or the one Redis), as a
    /// name the rooms on that part share; null when there is no such part (embedded). Local, no call: the
    /// tick lets one unavailable room stand for its whole shard.
    /// </summary>
    string? ShardOf(string roomId);

    /// <summary>Whether the store can serve rooms now, and why not or what is degraded (for <c>/readyz</c>).</summary>
    Task<StoreReadiness> CheckReadinessAsync(CancellationToken cancellationToken);
}
