namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Identifies one SignalR connection of one replica. Presence is kept per connection so several
/// devices merge into one member and a dead replica's connections can be recognised by their lease.
/// </summary>
public readonly record struct ConnectionKey(string ReplicaId, string ConnectionId)
{
    /// <summary>The presence hash field: <c>c:REPLICA:CONNECTION</c>.</summary>
    public string Field => $"c:{ReplicaId}:{ConnectionId}";
}

/// <summary>A connection this replica holds in a room, and its member: what a tick renews.</summary>
public readonly record struct LocalConnection(ConnectionKey Key, string MemberId);
