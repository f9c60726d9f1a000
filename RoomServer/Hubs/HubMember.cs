using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The member behind a hub connection, read from its token, and the room it has joined. A token
/// names one room; every call's room argument must be that room (<c>forbidden</c> otherwise).
/// </summary>
public sealed record HubMember(string MemberId, string RoomId, string DisplayName, string Role)
{
    private const string JoinedRoomKey = "roomshare.joined";

    public bool IsOwner => Role == RoomClaims.OwnerRole;

    public static HubMember From(HubCallerContext context)
    {
        var user = context.User ?? throw new RoomException(RoomErrorCodes.Unauthorized, "no token");
        var memberId = user.FindFirst(RoomClaims.MemberId)?.Value;
        var roomId = user.FindFirst(RoomClaims.RoomId)?.Value;
        var role = user.FindFirst(RoomClaims.Role)?.Value;
        if (!RoomIds.IsValidMemberId(memberId) || !RoomIds.IsValidRoomId(roomId) || !RoomClaims.IsValidRole(role))
        {
            throw new RoomException(RoomErrorCodes.Unauthorized, "the token lacks a valid sub, room or role claim");
        }

        var name = user.FindFirst(RoomClaims.DisplayName)?.Value;
        return new HubMember(memberId!, roomId!, string.IsNullOrWhiteSpace(name) ? memberId! : name, role!);
    }

    /// <summary>The member, after checking the call's room is the token's room.</summary>
    public static HubMember ForRoom(HubCallerContext context, string roomId)
    {
        var member = From(context);
        return member.RoomId == roomId
            ? member
            : throw new RoomException(RoomErrorCodes.Forbidden, "this token is for another room");
    }

    public static bool HasJoined(HubCallerContext context, string roomId) =>
        context.Items.TryGetValue(JoinedRoomKey, out var joined) && joined as string == roomId;

    public static string? JoinedRoom(HubCallerContext context) =>
        context.Items.TryGetValue(JoinedRoomKey, out var joined) ? joined as string : null;

    public static void MarkJoined(HubCallerContext context, string roomId) => context.Items[JoinedRoomKey] = roomId;

    public static void MarkLeft(HubCallerContext context) => context.Items.Remove(JoinedRoomKey);

    /// <summary>The member of a joined room; a change before <c>Join</c> is refused.</summary>
    public static HubMember Joined(HubCallerContext context, string roomId)
    {
        var member = ForRoom(context, roomId);
        return HasJoined(context, roomId)
            ? member
            : throw RoomException.Invalid("call Join(roomId, since) before changing the room");
    }
}
