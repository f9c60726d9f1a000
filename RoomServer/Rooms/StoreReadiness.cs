namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Whether the store can serve rooms now (<c>/readyz</c>), and the reason: why it cannot, or what is
/// degraded while it can (e.g. a Redis Cluster node down while every slot is served); null when all is well.
/// </summary>
public sealed record StoreReadiness(bool IsReady, string? Reason = null);
