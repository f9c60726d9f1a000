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

/// <summary>
/// A connection this replica holds in a room, its member, and the removal generation of the token it
/// joined with (claim <c>rgen</c>): what a tick renews — unless the member was removed after that token
/// was issued.
/// </summary>
public readonly record struct LocalConnection(ConnectionKey Key, string MemberId, long TokenRemovalGeneration);
