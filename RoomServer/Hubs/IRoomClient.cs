using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// What the server pushes to clients (DESIGN.md §3, server → client). RoomEvent, Position and
/// Presence are delivered by the room fan-out (Fanout/RoomClientMethods names them); Removed and
/// Announcement are cluster-wide SignalR sends through this typed client.
/// </summary>
public interface IRoomClient
{
    Task RoomEvent(RoomEvent roomEvent);

    Task Position(RoomPositionMessage position);

    Task Presence(PresenceChange presence);

    Task Removed(MemberRemovedNotice removed);

    Task Announcement(Announcement announcement);
}
