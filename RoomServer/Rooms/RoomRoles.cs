namespace RoomShare.RoomServer.Rooms;

/// <summary>The roles a member token carries (DESIGN.md §3): owners may change the room's state and remove members.</summary>
public static class RoomRoles
{
    public const string Member = "member";
    public const string Owner = "owner";
}
