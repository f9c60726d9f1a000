using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// SignalR's user id of a connection: <c>ROOMID/MEMBERID</c>. Member ids are only unique within a
/// room, so <c>Clients.User(...)</c> must name both to reach exactly one member's devices.
/// </summary>
public sealed class RoomUsers : IUserIdProvider
{
    public static string IdOf(string roomId, string memberId) => roomId + "/" + memberId;

    public string? GetUserId(HubConnectionContext connection)
    {
        var room = connection.User.FindFirst(RoomClaims.RoomId)?.Value;
        var member = connection.User.FindFirst(RoomClaims.MemberId)?.Value;
        return room is null || member is null ? null : IdOf(room, member);
    }
}
