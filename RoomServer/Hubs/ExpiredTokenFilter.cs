using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Refuses a hub call made after the connection's token expired (<c>unauthorized</c>) and closes the
/// connection: the client reconnects with a fresh token. SignalR's CloseOnAuthenticationExpiration
/// also closes such connections, but only on its one-second heartbeat; this closes the gap in between,
/// so no call is served on an expired token. Registered first, so it runs before any other filter.
/// Its close allows a reconnect, as SignalR's own does: a client whose token provider has a fresh token
/// comes back; one without gets 401 at the reconnect.
/// </summary>
public sealed class ExpiredTokenFilter(TimeProvider time, RoomMetrics metrics, ILogger<ExpiredTokenFilter> logger) : IHubFilter
{
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var context = invocationContext.Context;
        if (!TokenLifetime.HasExpired(context.User, time.GetUtcNow()))
        {
            return next(invocationContext);
        }

        AuthLog.ExpiredTokenCall(logger, context.ConnectionId, invocationContext.HubMethodName);
        metrics.Error(RoomErrorCodes.Unauthorized, "hub");

        // Closed once the error has had a moment to reach the client.
        _ = Task.Delay(TimeSpan.FromMilliseconds(200), time).ContinueWith(_ => context.CloseAllowingReconnect(), TaskScheduler.Default);
        return ValueTask.FromException<object?>(new HubException($"{RoomErrorCodes.Unauthorized}: the token has expired; reconnect with a new one"));
    }
}
