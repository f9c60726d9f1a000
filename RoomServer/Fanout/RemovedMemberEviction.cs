using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Fanout;

/// <summary>
/// Closes this replica's connections of a member the room removed. Every replica hears the
/// <c>member_removed</c> event on the room's channel; the <c>Removed</c> notice itself travels on
/// SignalR's own backplane (a user send) and leaves the writer right after the event, so the close
/// waits a moment for it to arrive first — the contract gives a second. Only connections whose token
/// predates the removal are closed: a member re-admitted within that moment (a new token, carrying the
/// new removal generation) keeps the connection they joined with. Each is told <c>Removed</c> again right
/// before its close (<see cref="RemovedClose"/>): the first may have been lost.
/// <para>
/// The room's tick asks for the same (<see cref="CloseLater"/>) when its sweep finds a connection whose
/// member was removed after its token: this replica missed the event (pub/sub loses messages in an
/// outage), and a removed member must not go on reading the room.
/// </para>
/// </summary>
public sealed class RemovedMemberEviction(
    RoomMembership membership,
    IRoomStore store,
    IMemberRemovalBroadcast removals,
    ReplicaShutdown shutdown,
    ILogger<RemovedMemberEviction> logger) : IHostedService
{
    private static readonly TimeSpan NoticeHeadStart = TimeSpan.FromMilliseconds(400);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string RoomId, string MemberId), byte> _closing = new();

    /// <summary>
    /// How long the close waits for the member's removal generation: with the notice's head start it stays
    /// within the contract's second even when the store is slow (its own deadline is longer).
    /// </summary>
    private static readonly TimeSpan GenerationLookupBudget = TimeSpan.FromMilliseconds(400);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        membership.Delivered += OnDelivered;
        removals.Heard += OnRemovalHeard;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        membership.Delivered -= OnDelivered;
        removals.Heard -= OnRemovalHeard;
        return Task.CompletedTask;
    }

    private static ReadOnlySpan<byte> MemberRemovedType => "\"type\":\"member_removed\""u8;

    private void OnDelivered(BackplaneMessage message)
    {
        var removed = message switch
        {
            RoomEventMessage e => e.Event,

            // Most events are not removals: look for the type before parsing anything.
            EncodedRoomMessage { Kind: RoomMessageKind.Event } e when e.Json.Span.IndexOf(MemberRemovedType) >= 0 => e.DecodeEvent(),
            _ => null,
        };
        if (removed is { Type: RoomEventTypes.MemberRemoved, MemberId: { } memberId })
        {
            _ = CloseAsync(removed.RoomId, memberId, removed.By);
        }
    }

    /// <summary>
    /// A removal every replica hears (<see cref="IMemberRemovalBroadcast"/>), for the member's connections
    /// on a replica that does not follow the room. One that follows it hears the event too: the close that
    /// comes second while the first runs is dropped (<see cref="CloseAsync"/>).
    /// </summary>
    private void OnRemovalHeard(MemberRemovedNotice removal) => _ = CloseAsync(removal.RoomId, removal.MemberId, removal.By);

    /// <summary>
    /// Closes a connection the room's tick found removed, after the <c>Removed</c> notice's head start
    /// (the notice may still be on its way). The tick has taken it out of the room already. Its sweep knows the
    /// removal by its generation alone, not who made it: the notice it sends says <c>by: null</c>.
    /// </summary>
    public void CloseLater(HubConnectionContext connection, string roomId, string memberId) => _ = Task.Run(async () =>
    {
        try
        {
            await Task.Delay(NoticeHeadStart, shutdown.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await connection.TellRemovedAndCloseAsync(new MemberRemovedNotice(roomId, memberId, By: null), logger);
    });

    private async Task CloseAsync(string roomId, string memberId, string? by)
    {
        // The event and the broadcast both ask, at about the same moment: one close of a member at a time.
        if (!_closing.TryAdd((roomId, memberId), 0))
        {
            return;
        }

        IReadOnlyCollection<HubConnectionContext> removed;
        try
        {
            removed = await RemovedConnectionsAsync(roomId, memberId);
        }
        finally
        {
            _closing.TryRemove((roomId, memberId), out _);
        }

        // Told and closed once the member is free again: a repeated removal heard while a connection takes its
        // notice (up to RemovedClose's budget) is not dropped as a duplicate.
        var notice = new MemberRemovedNotice(roomId, memberId, by);
        await Task.WhenAll(removed.Select(connection => connection.TellRemovedAndCloseAsync(notice, logger)));
    }

    /// <summary>
    /// The member's connections here whose token predates the removal, after the notice's head start. Where the store
    /// cannot say which (down, slower than the budget, or the room gone since) they are all closed here, without a
    /// notice and allowing a reconnect, and none is returned: a device re-admitted within this moment comes back, a
    /// removed one is refused (401) at its reconnect, which tells it why.
    /// </summary>
    private async Task<IReadOnlyCollection<HubConnectionContext>> RemovedConnectionsAsync(string roomId, string memberId)
    {
        try
        {
            await Task.Delay(NoticeHeadStart, shutdown.Token);
        }
        catch (OperationCanceledException)
        {
            return [];
        }

        var all = membership.ConnectionsRemovedBy(roomId, memberId, long.MaxValue);
        if (all.Count == 0)
        {
            return all; // none of the member's connections is here: nothing to ask the store
        }

        var lookup = store.RemovalGenerationAsync(roomId, memberId, shutdown.Token);
        try
        {
            // 0: the room is gone since (a removal made it at least 1).
            var generation = await lookup.WaitAsync(GenerationLookupBudget, shutdown.Token);
            if (generation > 0)
            {
                return membership.ConnectionsRemovedBy(roomId, memberId, generation);
            }
        }
        catch (Exception ex) when (ex is RoomException or OperationCanceledException or TimeoutException)
        {
            // A lookup left behind may still fail (the store's deadline): observed here, it is not an unobserved task exception.
            _ = lookup.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        foreach (var connection in all)
        {
            FanoutLog.ClosingRemoved(logger, connection.ConnectionId, memberId, roomId);
            connection.CloseAllowingReconnect();
        }

        return [];
    }
}
