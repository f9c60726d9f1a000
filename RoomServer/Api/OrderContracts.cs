namespace RoomShare.RoomServer.Api;

/// <summary><c>GET /api/rooms/{roomId}/order</c> (DESIGN.md §8): the room's order records, oldest first.</summary>
public sealed record OrderStatusResponse(IReadOnlyList<OrderRecordStatus> Records);

public sealed record OrderRecordStatus(string OrderId, string Type, long Version, string At, IReadOnlyList<EndpointDeliveryStatus> Deliveries);

/// <summary>
/// <c>status</c>: <c>pending</c>, <c>delivered</c> or <c>dead</c>, or <c>not_sent</c> for an endpoint configured after the record
/// was settled (it is not sent there). <c>nextAttemptAt</c>: while a pending delivery waits
/// out a retry (the backoff, or the receiver's <c>Retry-After</c>), when its next attempt is due (ISO-8601 UTC; it may
/// be just past while that attempt is made); null when none is scheduled, and once delivered or dead.
/// </summary>
public sealed record EndpointDeliveryStatus(string Endpoint, string Status, int Attempts, string? LastError, string? NextAttemptAt);

/// <summary><c>GET /api/deadletters?after=&amp;limit=</c>, oldest first; <c>next</c> = the <c>after</c> of the next page, or null.</summary>
public sealed record DeadLettersResponse(IReadOnlyList<DeadLetterItem> Items, string? Next);

public sealed record DeadLetterItem(string Id, string OrderId, string RoomId, string Type, string Endpoint, int Attempts, string? LastError, string DeadAt);

/// <summary>
/// <c>POST /api/deadletters/{id}/retry</c> and <c>/api/deadletters/retry</c>: the dead letters now pending
/// again; <c>more</c>: a retry of them all stopped before the end, and there may be more: call again with
/// <c>after</c> = <c>next</c> (null when <c>more</c> is false); <c>skipped</c>: the letters it read past because their
/// endpoint is no longer configured (they stay; 0 for a retry of one, which refuses such a letter instead).
/// </summary>
public sealed record RetryResponse(IReadOnlyList<string> Retried, bool More, string? Next, int Skipped);
