namespace RoomShare.RoomServer.Rooms;

/// <summary>A client's position in a room: which incarnation (epoch) and how far (version).</summary>
public sealed record RoomPosition(string Epoch, long Version);
