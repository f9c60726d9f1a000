using System.Security.Claims;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A hub connection keeps the room, member and role of the token its handshake came with (DESIGN §3). SignalR takes the
/// principal of each later request of a connection — a long poll, a send, its DELETE, a stateful reconnect — as the
/// connection's user. Without this check a connection opened for one room could carry on with another room's token, or
/// another member's: still in the first room and reading it, with its expiry, its removal and its limits judged by the
/// second token; and one that joined as a member could go on with an owner token of the same member: an owner whose
/// join set no owner mark, so removable, and whose owner-only calls no removal check in their scripts stops. Such a
/// request is refused with 403 <c>forbidden</c>, after authorization; a newer token of the same member and role (a
/// refresh) is taken.
/// </summary>
public static class ConnectionOwnerCheck
{
    /// <remarks>Not async: see <see cref="DrainGate.UseDrainGate"/>.</remarks>
    public static IApplicationBuilder UseConnectionOwnerCheck(this IApplicationBuilder app)
    {
        app.Use((context, next) =>
            OwnerOfConnection(context) is { } owner && owner != OwnerKey(context.User)
                ? ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden,
                    "this hub connection was opened with a token for another member, room or role; a connection keeps the room, member and role it opened with — connect again with this token")
                : next(context));
        return app;
    }

    /// <summary>The room, member and role of a token (<see cref="MemberConnectRate.MemberKey"/> and the role); null for a token without valid room and member ids.</summary>
    public static string? OwnerKey(ClaimsPrincipal user) =>
        MemberConnectRate.MemberKey(user) is { } member ? member + "/" + user.FindFirst(RoomClaims.Role)?.Value : null;

    /// <summary>Who opened the connection a request of the hub's transport endpoint names; null for any other request, or a connection not held here.</summary>
    private static string? OwnerOfConnection(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<HubMetadata>()?.HubType != typeof(RoomHub) || metadata.GetMetadata<NegotiateMetadata>() is not null
            || HeldConnections.TransportIdOf(context.Request) is not { } id)
        {
            return null;
        }

        // Resolved here, as the drain gate does, not while the pipeline is built: that would make the replica's
        // metrics before the metrics pipeline listens, and their zero series would be lost.
        return context.RequestServices.GetRequiredService<HeldConnections>().OwnerOf(id);
    }
}
