using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Paces how fast one room member opens hub connections on this replica. Each new connection — a
/// negotiate, or a WebSocket opened without one — takes a token from the member's bucket
/// (<c>RoomServer__Limits__MemberConnectsPerSecond</c>, bursts of <c>MemberConnectBurst</c>); past it,
/// 429 <c>rate_limited</c> with <c>Retry-After</c>. A negotiated connection's WebSocket (it names the
/// negotiated <c>id</c>) is not counted again.
/// <para>
/// Why: every negotiate leaves a connection on the replica waiting for its transport (SignalR keeps
/// it about 15 s), so one token negotiating in a loop grew a replica by megabytes a second.
/// <see cref="MemberConnectionCap"/> bounds the connections that do open. Applied by
/// <see cref="MemberConnectLimits"/>, after authorization: the bucket is the token's member.
/// </para>
/// </summary>
public sealed class MemberConnectRate(IOptions<RoomServerOptions> options) : IDisposable
{
    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly PartitionedRateLimiter<string> _buckets = PartitionedRateLimiter.Create<string, string>(member =>
        RateLimitPartition.GetTokenBucketLimiter(member, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.Limits.MemberConnectBurst,
            TokensPerPeriod = options.Value.Limits.MemberConnectsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>
    /// A request that starts a hub connection: a negotiate, or a request to the hub itself without a
    /// negotiated <c>id</c> — a WebSocket (GET, or CONNECT over HTTP/2; the WebSocket feature is only
    /// set up inside SignalR's endpoint, so the method is what tells here) or one SignalR refuses.
    /// </summary>
    public static bool StartsConnection(HttpRequest request) =>
        request.Path.StartsWithSegments(HubExtensions.Path, out var rest)
        && (rest.Equals("/negotiate", StringComparison.Ordinal) && HttpMethods.IsPost(request.Method)
            || !rest.HasValue && (HttpMethods.IsGet(request.Method) || HttpMethods.IsConnect(request.Method)) && !request.Query.ContainsKey("id"));

    /// <summary>Takes a token from the member's bucket (<see cref="MemberKey"/>); false, and how long to wait, when it is empty.</summary>
    public bool TryAcquire(string member, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        using var lease = _buckets.AttemptAcquire(member);
        if (lease.IsAcquired)
        {
            return true;
        }

        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return false;
    }

    /// <summary>The problem's wording names the limit (DESIGN §5).</summary>
    public string Refusal(int seconds) =>
        $"too many new connections for this member (at most {_limits.MemberConnectsPerSecond} a second per replica, bursts of {_limits.MemberConnectBurst}); retry after {seconds.ToString(CultureInfo.InvariantCulture)} s";

    /// <summary>One key per member of a room: a token names one room.</summary>
    public static string? MemberKey(ClaimsPrincipal user)
    {
        var member = user.FindFirst(RoomClaims.MemberId)?.Value;
        var room = user.FindFirst(RoomClaims.RoomId)?.Value;
        return member is null || room is null ? null : room + "/" + member;
    }

    public void Dispose() => _buckets.Dispose();
}
