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
        var notice = new MemberRemovedNotice(roomId, memberId, by);

        // A repeat tells nobody (the removal was told when it was made), but is broadcast again: its first
        // reply may have been lost after it applied (unavailable), before anything was sent, and a token
        // issued since is refused from now on — a connection made with one is closed as a removal closes.
        // Both at once: a slow SignalR backplane must not hold back the close on the other replicas.
        await Task.WhenAll(ack.AlreadyRemoved ? Task.CompletedTask : TellAsync(notice), BroadcastAsync(notice));
        return ack.ToVersionAck();
    }

    private async Task TellAsync(MemberRemovedNotice notice)
    {
        try
        {
            await hub.Clients.User(RoomUsers.IdOf(notice.RoomId, notice.MemberId)).Removed(notice);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The removal stands (it is in the store, and every replica closes the member's connections
            // on its event or the broadcast); only the explanation to their devices was lost.
            HubLog.RemovedNoticeFailed(logger, notice.RoomId, notice.MemberId, ex);
        }
    }

    private async Task BroadcastAsync(MemberRemovedNotice notice)
    {
        try
        {
            await removals.PublishAsync(notice);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only a replica that does not follow the room (nobody in it there) missed it: a device of the
            // member it holds stays open, every call from it refused, until its token expires.
            HubLog.RemovalBroadcastFailed(logger, notice.RoomId, notice.MemberId, ex);
        }
    }
}
