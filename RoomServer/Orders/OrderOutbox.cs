using System.Text.Json.Serialization;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Where order records wait for delivery: a Redis Stream per room (scaled) or memory (embedded).
/// The store writes records in the transition's own atomic step; the worker on every replica reads
/// them here, one record per room at a time, in version order. Two real implementations: the seam.
/// </summary>
public interface IOrderOutbox
{
    /// <summary>
    /// At most <paramref name="count"/> rooms that may have records to deliver (the index; scaled mode's
    /// longest-waiting first), each with the mark <see cref="ForgetAsync"/> checks.
    /// </summary>
    Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count);

    /// <summary>Puts the room in the index (the writer's replica, right after a transition); returns its new mark.</summary>
    Task<long> AnnounceAsync(string roomId);

    /// <summary>
    /// The room's oldest record not yet settled, now held by <paramref name="consumer"/> — unless another
    /// consumer holds it and renewed its claim within <paramref name="claimTimeout"/> (then busy), or this
    /// replica cannot read it (then left for the others, or from its third claim dead-lettered and settled
    /// on the way to the next).
    /// </summary>
    Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout);

    /// <summary>
    /// Renews the claim, so other replicas keep off a record that is still being delivered; false when
    /// <paramref name="consumer"/> no longer holds it (its claim lapsed and another replica took it over).
    /// </summary>
    Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer);

    /// <summary>
    /// One endpoint's delivery status of a record <paramref name="consumer"/> holds; false, and nothing written, when it no
    /// longer holds it (its claim lapsed and another replica took the record over, or it was settled): a replica that does
    /// not know yet must not write over the new holder's statuses (DESIGN.md §8).
    /// </summary>
    Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery);

    /// <summary>
    /// Appends a dead letter. Unconditional: the letters' stream is not in the record's Redis Cluster slot, so no one step
    /// checks the claim and writes the letter; the worker renews its claim (<see cref="KeepClaimAsync"/>) right before.
    /// </summary>
    Task DeadLetterAsync(DeadLetter letter);

    /// <summary>
    /// The record is done with (every endpoint delivered or dead): the room's next record may go. Nothing
    /// changes when another consumer holds it by now (it took the record over): that one settles it, and
    /// the answer is false.
    /// </summary>
    Task<bool> SettleAsync(OutboxEntry entry, string consumer);

    /// <summary>Drops the room from the index if nothing announced it since <paramref name="room"/> was read.</summary>
    Task ForgetAsync(OutboxRoom room);

    /// <summary>Finds outboxes with work that are missing from the index (their writer died before announcing).</summary>
    Task SweepAsync(CancellationToken cancellationToken);

    /// <summary>The room's records (oldest first) with their delivery status per endpoint; empty when it has none.</summary>
    Task<IReadOnlyList<StoredOrderRecord>> RecordsAsync(string roomId);

    /// <summary>
    /// Dead letters, oldest first, at most <paramref name="limit"/>: those after the dead letter
    /// <paramref name="after"/> (its id; it need not still exist), or from the oldest when null. A page
    /// at a time, since the dead-letter stream can hold many letters, each with its body.
    /// </summary>
    Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string? after, int limit);

    /// <summary>The dead letter with this id, or null when there is none (retried, or never was). Looks up that one letter only.</summary>
    Task<DeadLetter?> FindDeadLetterAsync(string deadLetterId);

    /// <summary>
    /// Moves a dead letter back into its room's outbox as pending (orderId and body unchanged) and
    /// returns its room; null when there is no such dead letter. Looks up that one letter only. Once the letter
    /// is put back and removed it answers so, whether or not the room could then be indexed (a poll or sweep finds it).
    /// </summary>
    Task<string?> RetryAsync(string deadLetterId);

    /// <summary>
    /// Removes a dead letter for good (its endpoint was removed for good, or its order no longer matters): true
    /// when this call or one at the same moment removed it; false when there is no such dead letter. A delete and a
    /// retry of one letter at once have one effect between them: the letter is put back, or it is gone — the one that
    /// loses answers as if there were no such letter. Looks up that one letter only.
    /// </summary>
    Task<bool> DeleteDeadLetterAsync(string deadLetterId);
}

public sealed record OutboxRoom(string RoomId, long Mark);

public enum ClaimOutcome
{
    /// <summary>Nothing left to deliver in this room.</summary>
    Empty,

    /// <summary>Another consumer is delivering the room's oldest record (and is alive).</summary>
    Busy,

    Claimed,

    /// <summary>
    /// Claimed, but where writes are confirmed no Redis replica confirmed holding the record (DESIGN.md §8): not handed
    /// out, and left claimed by this replica until the claim lapses (<see cref="OutboxClaim.LapsesIn"/>).
    /// </summary>
    Unconfirmed,

    /// <summary>
    /// This replica could not read the room's oldest record (a damaged entry, or a newer RoomShare's during a
    /// rolling upgrade) and left it pending for another replica; on its third claim it is dead-lettered.
    /// </summary>
    LeftForOthers,

    /// <summary>
    /// This process lost its ReplicaId's permit (<see cref="IOrderClaimPermit"/>) while it worked on the claim (dead-lettering
    /// an unreadable record): it stopped, leaving the record pending for the process that holds the id.
    /// </summary>
    PermitLost,
}

/// <summary>A claim's outcome; when busy, <paramref name="LapsesIn"/> is how long the holder's claim has left unless renewed.</summary>
public sealed record OutboxClaim(ClaimOutcome Outcome, OutboxEntry? Entry, TimeSpan LapsesIn = default, string? Reason = null)
{
    public static readonly OutboxClaim Empty = new(ClaimOutcome.Empty, null);

    public static readonly OutboxClaim LeftForOthers = new(ClaimOutcome.LeftForOthers, null);

    public static readonly OutboxClaim PermitLost = new(ClaimOutcome.PermitLost, null);

    public static OutboxClaim Busy(TimeSpan lapsesIn) => new(ClaimOutcome.Busy, null, lapsesIn < TimeSpan.Zero ? TimeSpan.Zero : lapsesIn);

    public static OutboxClaim Unconfirmed(TimeSpan lapsesIn, string why) => new(ClaimOutcome.Unconfirmed, null, lapsesIn, why);
}

/// <summary>
/// One record to deliver. <paramref name="OnlyEndpoint"/> is set for a retried dead letter: it goes
/// to that endpoint alone. <paramref name="Deliveries"/> holds what earlier attempts achieved (a
/// record taken over from a dead replica skips endpoints that already have it).
/// </summary>
public sealed record OutboxEntry(
    string RoomId,
    string EntryId,
    string OrderId,
    string Type,
    long Version,
    string At,
    string Body,
    string? OnlyEndpoint,
    IReadOnlyDictionary<string, EndpointDelivery> Deliveries);

public static class DeliveryStatuses
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Dead = "dead";

    /// <summary>
    /// The operator view's only, never stored: an endpoint configured after the record was settled (delivered or
    /// dead-lettered to every endpoint configured then). The record is not sent there, now or later.
    /// </summary>
    public const string NotSent = "not_sent";
}

/// <summary>
/// One endpoint's delivery of a record. <paramref name="NextAttemptAt"/>: while it is retried, when its next
/// attempt is due (the backoff, or the receiver's <c>Retry-After</c>), so a replica that takes the record over
/// waits until then too.
/// </summary>
public sealed record EndpointDelivery(
    string Status,
    int Attempts,
    string? LastError,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextAttemptAt = null);

/// <summary>
/// A record as stored, for the operator view: its deliveries by endpoint URL. <paramref name="AwaitsConfiguredEndpoints"/>:
/// its copy for every configured endpoint is not settled yet, so the worker will send it to each configured endpoint
/// that has no status yet — once settled, an endpoint without a status was configured too late and never gets it.
/// <paramref name="OnlyCopiesTo"/>: null while the record's own entry is kept; once that was trimmed and only put-back
/// copies of it (retried dead letters) are, the endpoints they go to — the record's other statuses may have gone with
/// its entry, so an endpoint without a status says nothing of whether it was sent there.
/// </summary>
public sealed record StoredOrderRecord(
    string OrderId,
    string Type,
    long Version,
    string At,
    IReadOnlyDictionary<string, EndpointDelivery> Deliveries,
    bool AwaitsConfiguredEndpoints,
    IReadOnlyList<string>? OnlyCopiesTo = null);

/// <summary>A record one endpoint refused <c>MaxAttempts</c> times (DESIGN.md §8, <c>GET /api/deadletters</c>).</summary>
public sealed record DeadLetter(
    string Id,
    string OrderId,
    string RoomId,
    string Type,
    long Version,
    string At,
    string Endpoint,
    int Attempts,
    string? LastError,
    string DeadAt,
    string Body);
