using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Fanout;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The transport ids of the hub connections this replica holds: the <c>id</c> query parameter their
/// HTTP requests carry (the <c>connectionToken</c> from negotiate; the connection id itself before
/// negotiate version 1). A long-polling member sends a new request for every poll, send and its final
/// DELETE, and so does an event-stream member for every send; the drain gate (<see cref="DrainGate"/>)
/// lets those through while the replica drains, and only those. SignalR keeps its own table internal
/// (HttpConnectionManager), so the lifetime manager records each connection here from its connect to
/// its disconnect — or, once the replica drains, for good: a long-polling connection the drain closed
/// between two polls still answers its next poll with a 204 and what was left for it, and SignalR knows
/// whether it still has it (if not, its 404 becomes the drain's 503 in <see cref="HubRefusalProblems"/>);
/// the process is exiting, so nothing piles up. A WebSocket is not held for the gate: it makes no further requests,
/// but for a stateful reconnect, which opens a new transport and is no request the gate lets through.
/// <para>
/// It also records, for every transport, the member and role whose token the connection's hub handshake came with (<see cref="OwnerOf"/>): SignalR
/// takes each later request's principal as the connection's user, and <see cref="ConnectionOwnerCheck"/> refuses one
/// that carries another member's token, another room's or another role's.
/// </para>
/// </summary>
public sealed class HeldConnections(ReplicaDrain drain)
{
    // Connection id → transport id, to forget the right one at disconnect; and the transport ids themselves.
    private readonly ConcurrentDictionary<string, string> _byConnection = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _transportIds = new(StringComparer.Ordinal);

    // Transport id → the member and role (room, sub and role, ConnectionOwnerCheck.OwnerKey) whose token opened the connection.
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    /// <summary>The transport id a hub request names, or null when it names none (SignalR reads the same parameter).</summary>
    public static string? TransportIdOf(HttpRequest request)
    {
        var id = request.Query["id"].ToString();
        return id.Length == 0 ? null : id;
    }

    public void Connected(HubConnectionContext connection)
    {
        // The connection's HttpContext is the request that opened its transport (for long polling, a copy
        // of its first poll), so its query names the id every later request of the connection carries
        // (none for a WebSocket opened without negotiate: it can make no later request).
        if (connection.GetHttpContext() is not { } http || TransportIdOf(http.Request) is not { } id)
        {
            return;
        }

        _byConnection[connection.ConnectionId] = id;
        if (ConnectionOwnerCheck.OwnerKey(connection.User) is { } owner)
        {
            _owners[id] = owner;
        }

        // A WebSocket makes no request after its upgrade (and the gate refuses upgrades): nothing to hold.
        if (connection.Features.Get<IHttpTransportFeature>()?.TransportType != HttpTransportType.WebSockets)
        {
            _transportIds[id] = 0;
        }
    }

    public void Disconnected(string connectionId)
    {
        if (!drain.IsDraining && _byConnection.TryRemove(connectionId, out var id))
        {
            _transportIds.TryRemove(id, out _);
            _owners.TryRemove(id, out _);
        }
    }

    /// <summary>The member and role (<see cref="ConnectionOwnerCheck.OwnerKey"/>) whose token the connection with this transport id had at its handshake; null when none here.</summary>
    public string? OwnerOf(string transportId) => _owners.TryGetValue(transportId, out var member) ? member : null;

    /// <summary>Whether a hub connection with this transport id is live here (or was, during a drain).</summary>
    public bool Holds(string transportId) => _transportIds.ContainsKey(transportId);
}
