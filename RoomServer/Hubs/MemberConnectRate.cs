using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

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
public sealed class MemberConnectRate(IOptions<RoomServerOptions> options, TimeProvider time) : IDisposable
{
    private readonly LimitOptions _limits = options.Value.Limits;
    private readonly MemberTokenBuckets _buckets = new(
        new MemberOpRate(options.Value.Limits.MemberConnectsPerSecond, options.Value.Limits.MemberConnectBurst), time);

    /// <summary>
    /// A request that starts a room hub connection, told by the endpoint routing chose (so every path
    /// form that reaches it counts: another case, a trailing slash): the hub's negotiate, or the hub's
    /// own endpoint without a negotiated <c>id</c> — SignalR takes an empty id for a new connection too.
    /// That is a WebSocket (GET, or CONNECT over HTTP/2), or a request SignalR refuses.
    /// </summary>
    public static bool StartsConnection(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<HubMetadata>()?.HubType != typeof(RoomHub))
        {
            return false;
        }

        var method = context.Request.Method;
        return metadata.GetMetadata<NegotiateMetadata>() is not null
            ? HttpMethods.IsPost(method)
            : (HttpMethods.IsGet(method) || HttpMethods.IsConnect(method)) && StringValues.IsNullOrEmpty(context.Request.Query["id"]);
    }

    /// <summary>Takes a token from the member's bucket (<see cref="MemberKey"/>); false, and how long to wait, when it is empty.</summary>
    public bool TryAcquire(string member, out TimeSpan retryAfter) => _buckets.TryTake(member, out retryAfter);

    /// <summary>The problem's wording names the limit (DESIGN §5).</summary>
    public string Refusal(int seconds) =>
        $"too many new connections for this member (at most {_limits.MemberConnectsPerSecond} a second per replica, bursts of {_limits.MemberConnectBurst}); retry after {seconds.ToString(CultureInfo.InvariantCulture)} s";

    /// <summary>One key per member of a room (a token names one room); null for a token without valid room and member ids.</summary>
    public static string? MemberKey(ClaimsPrincipal user)
    {
        var member = user.FindFirst(RoomClaims.MemberId)?.Value;
        var room = user.FindFirst(RoomClaims.RoomId)?.Value;
        return RoomIds.IsValidMemberId(member) && RoomIds.IsValidRoomId(room) ? room + "/" + member : null;
    }

    public void Dispose() => _buckets.Dispose();
}
