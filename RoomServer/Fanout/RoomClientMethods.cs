namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// The server-to-client calls the room fan-out makes (DESIGN.md §3). The hub's typed client
/// (Hubs/IRoomClient) declares the same names; a unit test keeps the two in step.
/// </summary>
public static class RoomClientMethods
{
    public const string RoomEvent = "RoomEvent";
    public const string Position = "Position";
    public const string Presence = "Presence";
}
