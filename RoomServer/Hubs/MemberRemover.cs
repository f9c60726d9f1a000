using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Removes a member (the owner's <c>RemoveMember</c> and <c>DELETE /api/rooms/{id}/members/{memberId}</c>):
/// the store applies it as one versioned event, then <c>Removed</c> goes to every connection of the
/// member on every replica through SignalR's own backplane. Each replica closes those connections
/// when it hears the event (Fanout/RemovedMemberEviction).
/// </summary>
public sealed class MemberRemover(IRoomStore store, IHubContext<RoomHub, IRoomClient> hub, TimeProvider time, ILogger<MemberRemover> logger)
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

        try
        {
            await hub.Clients.User(RoomUsers.IdOf(roomId, memberId)).Removed(new MemberRemovedNotice(roomId, memberId, by));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The removal stands (it is in the store, and every replica closes the member's connections
            // on its event); only the explanation to their devices was lost.
            HubLog.RemovedNoticeFailed(logger, roomId, memberId, ex);
        }

        return ack.ToVersionAck();
    }
}
