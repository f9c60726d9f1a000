using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Closes a connection whose client should come back: a draining replica's members, a member dropped to a resync
/// (DESIGN.md §9), and a call made on an expired token (the client comes back with a fresh one, §3). SignalR's <c>Abort()</c> tells the client not to reconnect (its close message carries
/// <c>allowReconnect: false</c>), so an official client's automatic reconnect never starts and the member is left
/// offline. Requesting the close instead is what SignalR does when the server shuts down: the close message allows a
/// reconnect. A connection removed from its room is still closed with <c>Abort()</c>: it must not come back.
/// </summary>
internal static class ReconnectableClose
{
    public static void CloseAllowingReconnect(this HubConnectionContext connection) => Close(connection.Features, connection.Abort);

    public static void CloseAllowingReconnect(this HubCallerContext caller) => Close(caller.Features, caller.Abort);

    private static void Close(IFeatureCollection features, Action abort)
    {
        if (features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime)
        {
            lifetime.RequestClose();
        }
        else
        {
            // A transport without the feature: closed all the same, only without the reconnect hint.
            abort();
        }
    }
}
