using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>What the server pushes to a joined member (DESIGN.md §3, server → client).</summary>
public interface IRoomClient
{
    Task RoomEvent(RoomEvent roomEvent);

    Task Position(RoomPositionMessage position);

    Task Presence(PresenceChange presence);
}
