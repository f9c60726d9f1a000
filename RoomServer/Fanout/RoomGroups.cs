namespace RoomShare.RoomServer.Fanout;

/// <summary>The SignalR group of a room's local members on this replica.</summary>
public static class RoomGroups
{
    public static string For(string roomId) => "room:" + roomId;
}
