using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Removes a member (the owner's <c>RemoveMember</c> and <c>DELETE /api/rooms/{id}/members/{memberId}</c>):
/// the store applies it as one versioned event, then <c>Removed</c> goes to every connection of the
/// member on every replica through SignalR's own backplane. Each replica closes those connections
/// when it hears the event (Fanout/RemovedMemberEviction), or the removal broadcast: a replica
/// where nobody is in the room does not hear the room's events, yet may hold a device of the member
/// that never joined.
/// </summary>
public sealed class MemberRemover(
    IRoomStore store,
    IHubContext<RoomHub, IRoomClient> hub,
    IMemberRemovalBroadcast removals,
    TimeProvider time,
    ILogger<MemberRemover> logger)
{
    public async Task<VersionAck> RemoveAsync(string roomId, string memberId, string by, CancellationToken cancellationToken)
    {
        var ack = await store.RemoveMemberAsync(
            new MemberRemoval(roomId, memberId, by, time.Stamp()),
            cancellationToken);
        if (ack.AlreadyRemoved)
        {
            // Told (and closed) when the removal was made; a repeat changes nothing anyone sees.
            return ack.ToVersionAck();
        }

        var notice = new MemberRemovedNotice(roomId, memberId, by);
        try
        {
            await hub.Clients.User(RoomUsers.IdOf(roomId, memberId)).Removed(notice);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The removal stands (it is in the store, and every replica closes the member's connections
            // on its event or the broadcast below); only the explanation to their devices was lost.
            HubLog.RemovedNoticeFailed(logger, roomId, memberId, ex);
        }

        try
        {
            await removals.PublishAsync(notice);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only a replica that does not follow the room (nobody in it there) missed it: a device of the
            // member it holds stays open, every call from it refused, until its token expires.
            HubLog.RemovalBroadcastFailed(logger, roomId, memberId, ex);
        }

        return ack.ToVersionAck();
    }
}
