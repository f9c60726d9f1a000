using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The member behind a hub connection, read from its token. A token names one room; every call's
/// room argument must be that room (<c>forbidden</c> otherwise). Whether the connection has joined
/// the room is not kept here but in Fanout's RoomMembership, its one owner.
/// </summary>
public sealed record HubMember(string MemberId, string RoomId, string DisplayName, string Role, long TokenRemovalGeneration)
{
    public bool IsOwner => Role == RoomClaims.OwnerRole;

    /// <summary>
    /// The connection's member, read from its token once per principal. The principal can change under a
    /// live connection (each long poll or server-sent-events request, a stateful reconnect, carries its own
    /// token), so the member is kept with the principal it was read from and read again from a new one.
    /// </summary>
    public static HubMember From(HubCallerContext context)
    {
        var user = context.User;
        if (context.Items.TryGetValue(ItemsKey, out var known) && known is ReadFrom kept && ReferenceEquals(kept.User, user))
        {
            return kept.Member;
        }

        var member = Read(user);
        context.Items[ItemsKey] = new ReadFrom(user!, member);
        return member;
    }

    // Reading the claims on every call was ~2 % of a replica's allocation per change.
    private static readonly object ItemsKey = new();

    private sealed record ReadFrom(ClaimsPrincipal User, HubMember Member);

    private static HubMember Read(ClaimsPrincipal? user)
    {
        if (user is null)
        {
            throw new RoomException(RoomErrorCodes.Unauthorized, "no token");
        }

        var memberId = user.FindFirst(RoomClaims.MemberId)?.Value;
        var roomId = user.FindFirst(RoomClaims.RoomId)?.Value;
        var role = user.FindFirst(RoomClaims.Role)?.Value;
        if (!RoomIds.IsValidMemberId(memberId) || !RoomIds.IsValidRoomId(roomId) || !RoomClaims.IsValidRole(role))
        {
            throw new RoomException(RoomErrorCodes.Unauthorized, "the token lacks a valid sub, room or role claim");
        }

        var name = user.FindFirst(RoomClaims.DisplayName)?.Value;
        return new HubMember(memberId!, roomId!, string.IsNullOrWhiteSpace(name) ? memberId! : name, role!, RoomClaims.RemovalGenerationOf(user));
    }

    /// <summary>The member, after checking the call's room is the token's room.</summary>
    public static HubMember ForRoom(HubCallerContext context, string roomId)
    {
        var member = From(context);
        return member.RoomId == roomId
            ? member
            : throw new RoomException(RoomErrorCodes.Forbidden, "this token is for another room");
    }
}
