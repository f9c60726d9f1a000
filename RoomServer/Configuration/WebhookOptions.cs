namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// <c>RoomServer:Webhooks</c> (DESIGN.md §8): where order records go and how hard we try. Checked at
/// start-up by <see cref="WebhookOptionsValidator"/>. With no endpoints, records are still written
/// (no transition without its record) and settle at once with nobody to tell.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary><c>RoomServer__Webhooks__Endpoints__0__Url</c>, <c>..__0__Secret</c>, <c>__1</c>...</summary>
    public List<WebhookEndpoint> Endpoints { get; set; } = [];

    /// <summary>
    /// Whether records can still go to <paramref name="url"/>: a dead letter for an endpoint no longer
    /// configured has no secret to be signed with, so a retry of it is refused (DESIGN.md §8).
    /// </summary>
    public bool IsConfigured(string url) => Endpoints.Exists(e => string.Equals(e.Url, url, StringComparison.Ordinal));

    /// <summary>One attempt's deadline; no answer within it counts as a failed attempt.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Attempts per record and endpoint (the first one included) before it is dead-lettered.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry's delay; each further retry doubles it (with jitter), up to <see cref="RetryMaxDelayMilliseconds"/>.</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 1000;

    public int RetryMaxDelayMilliseconds { get; set; } = 60_000;

    /// <summary>
    /// Webhook requests one replica has in flight at once to each endpoint, over all rooms. A record
    /// waiting out a retry's backoff holds none, and an endpoint that hangs holds only its own.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 32;

    /// <summary>A record held this long by a replica that stopped renewing its claim (it died) is taken over by another.</summary>
    public int ClaimTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The shortest claim that outlasts the Redis calls keeping it, each of which may be answered just within the store
    /// deadline: the claim's idle time may start as its call begins, and its first renewal goes out a third of the claim
    /// later, but not before the claim call and the record's deliveries read have answered (up to two deadlines; where
    /// writes are confirmed, the confirmation's renewal and its WAIT share one), and takes up to a deadline itself: three
    /// deadlines, rounded up to whole seconds. Later renewals, each a third of the claim after the one before was sent, need
    /// the same. Shorter, a slow Redis can let the claim lapse while its replica still delivers, and another replica sends
    /// the record again (the same <c>orderId</c>, at least once). A renewal that fails is tried again a second later (a sixth of a
    /// shorter claim): to survive one failure, the claim must also outlast the failed call, that wait and one more deadline.
    /// </summary>
    public static int LeastClaimTimeoutSeconds(int storeTimeoutMilliseconds) => (int)Math.Ceiling(3 * storeTimeoutMilliseconds / 1000.0);

    /// <summary>Whether a claim of <paramref name="claimTimeoutSeconds"/> is at least <see cref="LeastClaimTimeoutSeconds"/>.</summary>
    public static bool ClaimOutlastsStoreCalls(int claimTimeoutSeconds, int storeTimeoutMilliseconds) =>
        claimTimeoutSeconds >= LeastClaimTimeoutSeconds(storeTimeoutMilliseconds);

    /// <summary>How often every replica looks for rooms with records to deliver (the writer's replica starts at once).</summary>
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>How often a replica scans Redis for outboxes the room index missed (a writer that died right after the transition).</summary>
    public int SweepIntervalSeconds { get; set; } = 60;

    /// <summary>
    /// Settled records (delivered or dead-lettered to every endpoint) a room's outbox keeps for the operator view; past
    /// it the oldest are trimmed as the next one settles. Without it an owner toggling lock/unlock at the write rate grows
    /// the outbox — each record a whole order — for the room's whole life. Records not yet settled are never trimmed.
    /// </summary>
    public int SettledRecordsKept { get; set; } = 100;
}

public sealed class WebhookEndpoint
{
    /// <summary>Absolute http(s) URL the records are POSTed to.</summary>
    public string Url { get; set; } = "";

    /// <summary>The HMAC-SHA256 key of <c>RoomShare-Signature</c> (UTF-8 bytes). Never logged.</summary>
    public string Secret { get; set; } = "";
}
