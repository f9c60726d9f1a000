using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Closes a removed member's connection as DESIGN.md §3 <c>Removed</c> says: the notice, then the close. The paths
/// that close such a connection run because something may have been lost — the removal's own <c>Removed</c> (a user
/// send on SignalR's backplane) and its <c>member_removed</c> event are pub/sub, at most once — and a close alone
/// forbids a reconnect without a reason: a client would think the server unreachable. So each close tells the
/// connection first (a client that heard the first notice ignores the second), and closes it even if the telling
/// fails or stalls. Closed with <c>Abort()</c>, never allowing a reconnect: a removed member must not come back.
/// </summary>
internal static class RemovedClose
{
    /// <summary>
    /// How long the notice may take to be written: a connection that does not read is closed all the same, on time
    /// (the contract's second, after the eviction's 0.4 s head start and 0.4 s generation lookup).
    /// </summary>
    private static readonly TimeSpan NoticeBudget = TimeSpan.FromMilliseconds(100);

    /// <summary>Writes <c>Removed(<paramref name="notice"/>)</c> to this connection alone, then aborts it; never throws.</summary>
    public static async Task TellRemovedAndCloseAsync(this HubConnectionContext connection, MemberRemovedNotice notice, ILogger logger)
    {
        FanoutLog.ClosingRemoved(logger, connection.ConnectionId, notice.MemberId, notice.RoomId);
        try
        {
            // Written on this connection (this replica holds it), not through the backplane that may have lost the first.
            await connection.WriteAsync(new InvocationMessage(nameof(IRoomClient.Removed), [notice])).AsTask().WaitAsync(NoticeBudget);
        }
        catch (Exception ex)
        {
            FanoutLog.RemovedNoticeNotWritten(logger, connection.ConnectionId, notice.RoomId, ex);
        }
        finally
        {
            connection.Abort();
        }
    }
}
