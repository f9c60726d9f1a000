namespace RoomShare.RoomServer.Rooms;

/// <summary>Whether the store can serve rooms now (<c>/readyz</c>), and what is wrong or degraded, if anything.</summary>
public sealed record StoreReadiness(bool IsReady, string? Detail = null);
