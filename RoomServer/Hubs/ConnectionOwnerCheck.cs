using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A hub connection keeps the room and member of the token its handshake came with (DESIGN §3). SignalR takes the principal of
/// each later request of a connection — a long poll, a send, its DELETE, a stateful reconnect — as the connection's
/// user. Without this check a connection opened for one room could carry on with another room's token, or another
/// member's: still in the first room and reading it, with its expiry, its removal and its limits judged by the second
/// token. Such a request is refused with 403 <c>forbidden</c>, after authorization; a newer token of the same member
/// (a refresh) is taken.
/// </summary>
public static class ConnectionOwnerCheck
{
    /// <remarks>Not async: see <see cref="DrainGate.UseDrainGate"/>.</remarks>
    public static IApplicationBuilder UseConnectionOwnerCheck(this IApplicationBuilder app)
    {
        app.Use((context, next) =>
            OwnerOfConnection(context) is { } owner && owner != MemberConnectRate.MemberKey(context.User)
                ? ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden,
                    "this hub connection was opened with a token for another member or room; a connection keeps the room and member it opened with — connect again with this token")
                : next(context));
        return app;
    }

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
