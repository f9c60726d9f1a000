using System.Globalization;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The HTTP edge of a member's connection limits: a request that starts a hub connection (a
/// negotiate, or a WebSocket opened without one) is answered 429 <c>rate_limited</c> when the member
/// already has all its open connections on this replica (<see cref="MemberConnectionCap"/>), or has
/// opened connections faster than its bucket allows (<see cref="MemberConnectRate"/>, with
/// <c>Retry-After</c>). After authorization, so both are the token's member's; a token without valid
/// room and member ids is refused here (401), as its hub calls would be. These checks cost nothing
/// of their own, but the request was authenticated first: a refused one still costs a token check
/// and its member's removal lookup.
/// </summary>
public static class MemberConnectLimits
{
    public static IApplicationBuilder UseMemberConnectLimits(this IApplicationBuilder app)
    {
        var cap = app.ApplicationServices.GetRequiredService<MemberConnectionCap>();
        var rate = app.ApplicationServices.GetRequiredService<MemberConnectRate>();
        // Not async: see DrainGate.UseDrainGate.
        app.Use((context, next) =>
        {
            if (!MemberConnectRate.StartsConnection(context))
            {
                return next(context);
            }

            if (MemberConnectRate.MemberKey(context.User) is not { } member)
            {
                // Signed, but for nobody: every hub call would be refused, and the limits have no member to count.
                return ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, "a hub connection needs a member token: valid room and sub claims");
            }

            if (cap.IsFull(member))
            {
                return ProblemWriter.WriteAsync(context, RoomErrorCodes.RateLimited,
                    $"this member has {cap.Limit} connections open on this replica, the most it may; close one first");
            }

            if (!rate.TryAcquire(member, out var retryAfter))
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return ProblemWriter.WriteAsync(context, RoomErrorCodes.RateLimited, rate.Refusal(seconds));
            }

            return next(context);
        });
        return app;
    }
}
