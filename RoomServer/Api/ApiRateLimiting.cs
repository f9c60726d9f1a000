using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// HTTP rate limits on <c>/api/</c> (ASP.NET Core's rate limiter, one token bucket per partition, per
/// replica): a request with a valid API key draws on its key's bucket
/// (<c>RoomServer__Limits__ApiRequestsPerSecond</c>, burst <c>ApiRequestBurst</c>); any other request
/// (no key, a wrong key, a member token) on its remote address's bucket — an IPv6 client's /64
/// (<c>AnonymousApiRequestsPerSecond</c>, burst twice that), so guessing keys cannot drain a real
/// key's budget. Past it: 429 with a <c>rate_limited</c> problem and <c>Retry-After</c>. Runs before
/// authentication, so a flood of bad keys is turned away before any key is checked. The hub's endpoints
/// opt out altogether (<c>DisableRateLimiting</c> in <c>MapRoomHub</c>; they have limits of their own): a
/// partition for <c>/hubs</c> here would never be reached.
/// </summary>
public static class ApiRateLimiting
{
    public static WebApplicationBuilder AddApiRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyIds>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<RoomServerOptions>, ApiKeyIds>((limiter, options, keys) =>
            {
                var limits = options.Value.Limits;
                limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, keys, limits));
                limiter.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected, keys, limits, cancellationToken);
            });
        return builder;
    }

    public static WebApplication UseApiRateLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    private static RateLimitPartition<string> Partition(HttpContext context, ApiKeyIds keys, LimitOptions limits)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            return RateLimitPartition.GetNoLimiter("unlimited");
        }

        if (keys.Of(context) is { } keyId)
        {
            return RateLimitPartition.GetTokenBucketLimiter("key:" + keyId, _ => Bucket(limits.ApiRequestsPerSecond, limits.ApiRequestBurst));
        }

        return RateLimitPartition.GetTokenBucketLimiter(
            "ip:" + AddressPartition(context.Connection.RemoteIpAddress), _ => Bucket(limits.AnonymousApiRequestsPerSecond, 2 * limits.AnonymousApiRequestsPerSecond));
    }

    /// <summary>
    /// The bucket of a remote address: the address itself for IPv4, its /64 for IPv6 — one host
    /// usually holds a whole /64 and may send from any address in it, so a bucket per address would
    /// give it billions of them.
    /// </summary>
    public static string AddressPartition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>429, naming the limit that was reached (DESIGN §5): the API key's, or the address's without one.</summary>
    private static async ValueTask RejectAsync(OnRejectedContext rejected, ApiKeyIds keys, LimitOptions limits, CancellationToken cancellationToken)
    {
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var limit = keys.Of(rejected.HttpContext) is not null
            ? $"this API key's requests (at most {limits.ApiRequestsPerSecond} a second per replica, bursts of {limits.ApiRequestBurst})"
            : $"requests from this address without an API key (at most {limits.AnonymousApiRequestsPerSecond} a second per replica, bursts of {2 * limits.AnonymousApiRequestsPerSecond})";
        await ProblemWriter.WriteAsync(
            rejected.HttpContext, RoomErrorCodes.RateLimited, $"too many requests: {limit}; retry after {seconds} s");
    }
}
