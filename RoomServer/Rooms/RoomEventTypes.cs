namespace RoomShare.RoomServer.Rooms;

/// <summary>The <c>type</c> of a <see cref="RoomEvent"/> (DESIGN.md §3).</summary>
public static class RoomEventTypes
{
    public const string Member = "member";
    public const string Choice = "choice";
    public const string State = "state";
    public const string Refresh = "refresh";
    public const string Notice = "notice";
    public const string MemberRemoved = "member_removed";
}
