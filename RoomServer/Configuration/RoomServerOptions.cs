using System.ComponentModel.DataAnnotations;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Everything under the <c>RoomServer</c> configuration section (DESIGN.md §6). Defaults live here;
/// <see cref="RoomServerOptionsValidator"/> checks them at start-up.
/// </summary>
public sealed class RoomServerOptions
{
    public const string SectionName = "RoomServer";

    /// <summary>Keys accepted in <c>X-Api-Key</c> by the server-to-server HTTP API.</summary>
    public List<string> ApiKeys { get; set; } = [];

    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// Browser origins (<c>https://host[:port]</c>, or <c>*</c> for any) allowed to open the hub; empty =
    /// same origin only (the web client this server serves). Requests without an Origin header
    /// (apps, servers) are not affected. See Hubs/HubOrigins.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> names the client (addresses or CIDR networks, e.g. the compose
    /// network nginx is on); loopback always is. Per-address limits and logs then see each client,
    /// not the proxy. Only the entry the proxy itself appended (the last) is believed.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>How many missed events <c>Join(since)</c> replays at most (from the audit trail); a position further behind gets a snapshot.</summary>
    [Range(1, 100_000)]
    public int HistoryLength { get; set; } = 500;

    /// <summary>
    /// How many events each room keeps in its audit trail (<c>GET /api/rooms/{id}/events</c>), at least
    /// <see cref="HistoryLength"/>; past it the oldest are trimmed. Fixed per room when it is created.
    /// Bounds a room's memory: about 350 bytes of Redis per member-made event (3.5 MB at the default).
    /// </summary>
    [Range(1, 1_000_000)]
    public int AuditLength { get; set; } = 10_000;

    /// <summary>Idle rooms expire this long after their last change (with Redis up to a slack later: 1 % of it, at least 1 s, at most 60 s; prelude.lua room_life).</summary>
    [Range(1, 60 * 24 * 30)]
    public int DefaultRoomTtlMinutes { get; set; } = 720;

    [Range(1, 10_000)]
    public int MaxQuantity { get; set; } = 99;

    /// <summary>
    /// How often each replica ticks its rooms: renews presence leases and sends the members the room's position
    /// (while the last event written to them was at it, only after five ticks left it out, <c>MembersPosition</c>).
    /// </summary>
    [Range(1, 3600)]
    public int PositionIntervalSeconds { get; set; } = 5;

    /// <summary>How long a member whose last connection dropped still shows online.</summary>
    [Range(0, 3600)]
    public int PresenceGraceSeconds { get; set; } = 5;

    /// <summary>This replica's name in <c>JoinResult.replica</c>, logs and presence. Default: the host name.</summary>
    public string ReplicaId { get; set; } = Environment.MachineName;

    /// <summary>How many recent opIds per room are remembered for idempotent retries.</summary>
    [Range(1, 1_000_000)]
    public int IdempotencyWindow { get; set; } = 1000;

    /// <summary>
    /// How long an HTTP API write's <c>Idempotency-Key</c> is remembered (DESIGN.md §4): a retry within it
    /// gets the first result and applies nothing. Checked by <see cref="RoomServerOptionsValidator"/> (1–720).
    /// </summary>
    public int IdempotencyKeyHours { get; set; } = 24;

    /// <summary><see cref="IdempotencyKeyHours"/> as a span.</summary>
    public TimeSpan IdempotencyKeyWindow => TimeSpan.FromHours(IdempotencyKeyHours);

    /// <summary>The deadline of every Redis call; past it the call fails with <c>unavailable</c>.</summary>
    [Range(50, 60_000)]
    public int StoreTimeoutMilliseconds { get; set; } = 2000;

    /// <summary>
    /// On SIGTERM a replica drains (DESIGN.md §9): <c>/readyz</c> fails and new connections are
    /// refused at once, members are closed in staggered batches (they resume on other replicas),
    /// calls in flight finish, and the process exits within this many seconds.
    /// </summary>
    [Range(1, 600)]
    public int DrainSeconds { get; set; } = 20;

    public LimitOptions Limits { get; set; } = new();

    /// <summary>
    /// Lets clients that ask for it (the web client does) use SignalR's stateful reconnect: after a
    /// brief transport blip they resume the same connection on the same replica and get the messages
    /// they missed replayed, instead of a <c>Join(since)</c> resync.
    /// </summary>
    public bool StatefulReconnect { get; set; } = true;

    /// <summary>
    /// Scaled mode: how often a replica publishes a heartbeat on its own channel and must hear it
    /// back. Three missed in a row → deaf (degraded mode, DESIGN.md §9).
    /// </summary>
    [Range(50, 60_000)]
    public int HeartbeatMilliseconds { get; set; } = 1000;

    public WebhookOptions Webhooks { get; set; } = new();

    public RedisOptions Redis { get; set; } = new();

    /// <summary>A connection's presence lease: three missed ticks and it is considered dead.</summary>
    public TimeSpan PresenceLease => TimeSpan.FromSeconds(PositionIntervalSeconds * 3);
}

public sealed class JwtOptions
{
    /// <summary>HS256 key: the UTF-8 bytes of this string, at least 32 bytes.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>Not blank: a token with a blank issuer or audience is refused when presented (IDX10211).</summary>
    [Required]
    public string Issuer { get; set; } = "roomshare";

    [Required]
    public string Audience { get; set; } = "roomshare";

    /// <summary>How long a member token minted by <c>POST /api/rooms/{id}/tokens</c> stays valid.</summary>
    [Range(1, 60 * 24 * 30)]
    public int TokenLifetimeMinutes { get; set; } = 720;
}

/// <summary>Input limits: past them a call fails with a clear code instead of costing the server.</summary>
public sealed class LimitOptions
{
    /// <summary>
    /// The largest HTTP request body a replica reads (Kestrel's <c>MaxRequestBodySize</c>, ApiExtensions), and
    /// nginx's <c>client_max_body_size</c> (nginx/roomshare-locations.conf): change both.
    /// </summary>
    public const int MaxRequestBodyBytes = 256 * 1024;

    // Each maximum below is one a request can reach within the API's 256 KiB body (ApiExtensions): 5 000
    // minimal menu items (ids i0..i4999) are ~210 KB; a larger setting would start a server that refuses the body first.
    [Range(1, 5_000)]
    public int MaxMenuItems { get; set; } = 200;

    /// <summary>A notice payload larger than this (UTF-8 JSON bytes) is refused with <c>payload_too_large</c>.</summary>
    [Range(16, 250_000)]
    public int MaxNoticePayloadBytes { get; set; } = 4096;

    /// <summary>
    /// An announcement's message longer than this (characters, counted as UTF-16 code units: most emoji count two) is refused
    /// with <c>payload_too_large</c>.
    /// </summary>
    // Code units, not code points, so that the bound below holds: 40 000 code units are at most 240 000 bytes of JSON, every one escaped as \uXXXX.
    [Range(1, 40_000)]
    public int MaxAnnouncementLength { get; set; } = 500;

    /// <summary>
    /// Room messages waiting for one connection (queued behind its socket, beyond what SignalR's own
    /// pipes and the kernel hold) past this many bytes drop the member to a resync: the connection is
    /// closed and the client resumes with <c>Join(since)</c>. Bounds a replica's memory per slow member.
    /// It caps that catch-up too: missed events whose JSON passes it are answered with a snapshot, so the
    /// backlog that dropped a member never comes back as one reply.
    /// </summary>
    [Range(16 * 1024, 1024 * 1024 * 1024)]
    public int MaxPendingBytesPerConnection { get; set; } = 1024 * 1024;

    /// <summary>The largest SignalR message a client may send; a larger one closes the connection.</summary>
    // At most the HTTP body limit: a long-polling or server-sent-events client sends its messages as POST bodies,
    // which Kestrel and nginx cut at MaxRequestBodyBytes (a 400 or 413, the message lost), where a WebSocket
    // would take the configured size: a larger setting would make the limit depend on the transport.
    [Range(1024, MaxRequestBodyBytes)]
    public int MaxHubMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Sustained hub calls per second per connection; bursts up to twice this.</summary>
    [Range(1, 100_000)]
    public int HubCallsPerSecond { get; set; } = 50;

    // Members, rooms and rates (README "Limits", DESIGN.md §6): past each, a call fails with its §5 code.

    /// <summary>
    /// A member's accepted writes per second in a room, across all their connections and replicas (a
    /// token bucket kept with the room's state); past it → <c>rate_limited</c>.
    /// </summary>
    [Range(1, 100_000)]
    public int MemberOpsPerSecond { get; set; } = 20;

    /// <summary>How many writes a member may make at once before <see cref="MemberOpsPerSecond"/> paces them.</summary>
    [Range(1, 100_000)]
    public int MemberOpsBurst { get; set; } = 40;

    /// <summary>A new member joining a room that has this many → <c>rate_limited</c> (the room is full).</summary>
    [Range(1, 100_000)]
    public int MaxMembersPerRoom { get; set; } = 500;

    /// <summary>One member's live connections to a room, across replicas; one more → <c>rate_limited</c>.</summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerMember { get; set; } = 10;

    /// <summary>
    /// One member's open hub connections on one replica, joined or not; one more is refused (429
    /// <c>rate_limited</c>) before it starts. <see cref="MaxConnectionsPerMember"/> counts joined ones only.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxOpenConnectionsPerMember { get; set; } = 20;

    /// <summary>New hub connections (a negotiate, or a WebSocket opened without one) per second per member, per replica; past it → 429.</summary>
    [Range(1, 100_000)]
    public int MemberConnectsPerSecond { get; set; } = 5;

    /// <summary>How many connections a member may open at once before <see cref="MemberConnectsPerSecond"/> paces them.</summary>
    [Range(1, 100_000)]
    public int MemberConnectBurst { get; set; } = 20;

    /// <summary>
    /// One member's <c>Join</c> calls per second in a room, across all their connections on one replica; past it →
    /// <c>rate_limited</c>. Each Join runs a store script that reads the room's presence, and the per-connection
    /// call budget alone let a member make about a thousand a second. The default is twice
    /// <see cref="MemberConnectsPerSecond"/>'s: a member reconnecting at that pace (a Join per new connection, and a resync) is not refused here.
    /// </summary>
    [Range(1, 100_000)]
    public int MemberJoinsPerSecond { get; set; } = 10;

    /// <summary>How many Joins a member may make at once (all their devices resyncing) before <see cref="MemberJoinsPerSecond"/> paces them.</summary>
    [Range(1, 100_000)]
    public int MemberJoinBurst { get; set; } = 20;

    /// <summary>
    /// Order records a room's outbox may hold that are not yet delivered or dead-lettered to every endpoint
    /// (DESIGN.md §8): a state change that would write one more → <c>rate_limited</c>. Each record holds a whole order,
    /// and with the restaurant's endpoint down an owner toggling lock and open at the write rate grew the outbox for
    /// as long as the room lived.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxUnsettledOrderRecords { get; set; } = 100;

    /// <summary>Live rooms one API key may hold; creating one more → <c>rate_limited</c>.</summary>
    [Range(1, 10_000_000)]
    public int MaxRoomsPerApiKey { get; set; } = 10_000;

    /// <summary>HTTP API requests per second per API key, per replica (ASP.NET Core's rate limiter); past it → 429.</summary>
    [Range(1, 1_000_000)]
    public int ApiRequestsPerSecond { get; set; } = 1000;

    /// <summary>The burst an API key may send before <see cref="ApiRequestsPerSecond"/> paces it.</summary>
    [Range(1, 1_000_000)]
    public int ApiRequestBurst { get; set; } = 2000;

    /// <summary>HTTP API requests per second, per replica, from each remote address without a valid API key.</summary>
    [Range(1, 1_000_000)]
    public int AnonymousApiRequestsPerSecond { get; set; } = 50;

    /// <summary>The limits a store enforces inside each room's atomic change.</summary>
    public RoomLimits ForRooms() =>
        new(new MemberOpRate(MemberOpsPerSecond, MemberOpsBurst), MaxMembersPerRoom, MaxConnectionsPerMember, MaxPendingBytesPerConnection, MaxUnsettledOrderRecords);
}
