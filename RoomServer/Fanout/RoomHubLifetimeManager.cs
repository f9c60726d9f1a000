using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Hubs;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The hub's lifetime manager: a thin composite. Every SignalR send a developer makes —
/// <c>Clients.All</c>, <c>User</c>, <c>Client</c>, groups, from a hub or <c>IHubContext</c> — goes to
/// the cluster manager it wraps (SignalR's Redis backplane in scaled mode, the in-process default
/// in embedded mode), so it means what it says across replicas. Room events do not: they need a
/// total order per room and replay, which that backplane does not give, so they come from the
/// room's channel and <see cref="RoomMembership"/> delivers them to its local connections. This
/// class only tells the membership which connections this replica holds (and <see cref="HeldConnections"/>
/// their transport ids, which the drain gate lets through).
/// <para>
/// The cluster manager's sends are not counted by <see cref="RoomMembership"/>'s pending-bytes
/// bound (<c>MaxPendingBytesPerConnection</c>), and cannot be from here: SignalR's Redis manager
/// writes to the connections itself when the message comes back from Redis. They need not be.
/// RoomShare's only such sends are an announcement (<c>Clients.All</c>, API key only, at most
/// <c>MaxAnnouncementLength</c> = 500 characters, so ≤ ~1.6 KB framed) and <c>Removed</c> (~150
/// bytes, once per removal), each serialized once and shared by every connection's queue; the
/// memory a non-reading connection can hold with them is that size times the announcements sent
/// while it stalls, a few KB against the bound's 1 MiB. The cost is time, not memory: the Redis
/// manager awaits every local write of an announcement before it takes the next one off its
/// channel, so a stalled connection delays later announcements on its replica (not room events,
/// which have their own channels) until it is gone. SignalR's client timeout does not catch a client
/// that pings but never reads, and in a quiet room its room messages never pass the bound; what does is
/// the transport's send timeout (<see cref="HubExtensions.TransportSendTimeout"/>, 10 s): a send to its
/// socket that takes that long closes the connection (<c>Cluster/StalledSendTests</c>). Embedded mode's
/// manager makes the announcing HTTP call wait for those writes instead, as long.
/// </para>
/// </summary>
public abstract class RoomHubLifetimeManager<THub>(HubLifetimeManager<THub> cluster, RoomMembership membership, HeldConnections held) : HubLifetimeManager<THub>
    where THub : Hub
{
    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        membership.Connected(connection);
        held.Connected(connection);
        await cluster.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        try
        {
            membership.Disconnected(connection.ConnectionId);
        }
        finally
        {
            // Whatever the membership did, the id must go (outside a drain), or one entry a connection piles up.
            held.Disconnected(connection.ConnectionId);
        }

        await cluster.OnDisconnectedAsync(connection);
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendAllAsync(methodName, args, cancellationToken);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        cluster.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendConnectionAsync(connectionId, methodName, args, cancellationToken);

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendConnectionsAsync(connectionIds, methodName, args, cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendGroupAsync(groupName, methodName, args, cancellationToken);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendGroupsAsync(groupNames, methodName, args, cancellationToken);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        cluster.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendUserAsync(userId, methodName, args, cancellationToken);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        cluster.SendUsersAsync(userIds, methodName, args, cancellationToken);

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        cluster.AddToGroupAsync(connectionId, groupName, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        cluster.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);

    public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken) =>
        cluster.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken);

    public override Task SetConnectionResultAsync(string connectionId, Microsoft.AspNetCore.SignalR.Protocol.CompletionMessage result) =>
        cluster.SetConnectionResultAsync(connectionId, result);

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type) =>
        cluster.TryGetReturnType(invocationId, out type);
}
