using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// <c>/hubs/room</c> (DESIGN.md §3). Thin: it checks the caller and arguments, then asks the store.
/// It never sends room events itself — they come back from the room's channel like everyone else's,
/// which is what keeps every member's order identical across replicas.
/// </summary>
[Authorize(Policy = AuthPolicies.Member)]
public sealed class RoomHub(
    IRoomStore store,
    RoomSubscriptions subscriptions,
    RoomTicker ticker,
    IOptions<RoomServerOptions> options,
    TimeProvider time,
    ILogger<RoomHub> logger) : Hub<IRoomClient>
{
    private readonly RoomServerOptions _options = options.Value;

    /// <summary>
    /// Joins (or re-joins) the token's room. The connection is added to the room's group and channel
    /// BEFORE the store is read, so no event can fall between the result and the live stream; the
    /// client drops live events at or below the returned position.
    /// </summary>
    public async Task<JoinResult> Join(JsonElement roomId, JsonElement since)
    {
        var room = HubArguments.RoomId(roomId);
        var member = HubMember.ForRoom(Context, room);
        var from = HubArguments.Since(since);
        var firstJoin = !HubMember.HasJoined(Context, room);
        if (firstJoin)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, RoomGroups.For(room), Context.ConnectionAborted);
            await subscriptions.AddAsync(room, Context.ConnectionId, member.MemberId, Context.ConnectionAborted);
        }

        try
        {
            var outcome = await store.JoinAsync(
                new JoinRequest(room, member.MemberId, member.DisplayName, ConnectionKey, from, time.Stamp()),
                Context.ConnectionAborted);
            await SendPresenceCatchUpAsync(room, outcome);

            // Last: a connection counts as joined only once everything above has succeeded, so a
            // retried Join after any failure starts again from the group and the channel.
            HubMember.MarkJoined(Context, room);
            subscriptions.MarkJoined(room, Context.ConnectionId);

            // SignalR runs OnDisconnectedAsync without waiting for a hub method still in flight: if the
            // connection died during this Join, OnDisconnectedAsync found nothing to clean up (it
            // cancels ConnectionAborted before reading Items), so the cleanup is this method's.
            if (Context.ConnectionAborted.IsCancellationRequested)
            {
                throw new OperationCanceledException("the connection closed during Join");
            }

            HubLog.Joined(logger, Context.ConnectionId, member.MemberId, room, outcome.Position.Version);
            return new JoinResult(outcome.Position, outcome.Snapshot, outcome.Missed, _options.ReplicaId);
        }
        catch when (firstJoin || Context.ConnectionAborted.IsCancellationRequested)
        {
            await LeaveRoomAsync(room);
            throw;
        }
    }

    public Task<ChoiceAck> SetChoice(JsonElement roomId, JsonElement menuId, JsonElement quantity, JsonElement opId) =>
        ChangeChoice(roomId, menuId, quantity, opId, ChoiceMode.Set, "quantity");

    /// <summary>Adds a delta (floored at 0, capped at the max): commutative, so two devices never lose an increment.</summary>
    public Task<ChoiceAck> AdjustChoice(JsonElement roomId, JsonElement menuId, JsonElement delta, JsonElement opId) =>
        ChangeChoice(roomId, menuId, delta, opId, ChoiceMode.Adjust, "delta");

    public async Task<VersionAck> Refresh(JsonElement roomId)
    {
        var room = HubArguments.RoomId(roomId);
        var member = HubMember.Joined(Context, room);
        return await store.RefreshAsync(room, member.MemberId, time.Stamp(), Context.ConnectionAborted);
    }

    public async Task<VersionAck> SetRoomState(JsonElement roomId, JsonElement state)
    {
        var room = HubArguments.RoomId(roomId);
        var member = HubMember.Joined(Context, room);
        var target = HubArguments.State(state);
        if (!member.IsOwner)
        {
            throw new RoomException(RoomErrorCodes.Forbidden, "only the room's owner may change its state");
        }

        return await store.SetStateAsync(room, target, member.MemberId, time.Stamp(), Context.ConnectionAborted);
    }

    /// <summary>Stops this connection's events for the room. Leaving a room not joined is a no-op.</summary>
    public async Task Leave(JsonElement roomId)
    {
        var room = HubArguments.RoomId(roomId);
        HubMember.ForRoom(Context, room);
        if (HubMember.HasJoined(Context, room))
        {
            await LeaveRoomAsync(room);
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (HubMember.JoinedRoom(Context) is { } room)
        {
            await LeaveRoomAsync(room);
        }

        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>
    /// A client resuming from missed events learns every member's presence again, since presence
    /// changes are not versioned and history cannot replay them. Sent before the Join result.
    /// </summary>
    private async Task SendPresenceCatchUpAsync(string room, JoinOutcome outcome)
    {
        foreach (var m in outcome.Presence ?? [])
        {
            await Clients.Caller.Presence(new PresenceChange(room, m.MemberId, m.DisplayName, m.Online, outcome.PresenceSeq));
        }
    }

    private ConnectionKey ConnectionKey => new(_options.ReplicaId, Context.ConnectionId);

    private async Task<ChoiceAck> ChangeChoice(JsonElement roomId, JsonElement menuId, JsonElement value, JsonElement opId, ChoiceMode mode, string valueName)
    {
        var room = HubArguments.RoomId(roomId);
        var member = HubMember.Joined(Context, room);
        var menu = HubArguments.MenuId(menuId);
        var amount = HubArguments.WholeNumber(value, valueName);
        ChoiceRules.Validate(mode, amount, _options.MaxQuantity);
        var op = HubArguments.OpId(opId);
        return await store.ChangeChoiceAsync(
            new ChoiceChange(room, member.MemberId, menu, mode, amount, op, _options.MaxQuantity, time.Stamp()),
            Context.ConnectionAborted);
    }

    /// <summary>
    /// Removes the connection from the room's group first (so it receives nothing more), then from
    /// the channel's reference count, then from presence. A presence failure is only logged: the
    /// connection's lease expires by itself and the survivors' sweep announces the member offline.
    /// </summary>
    private async Task LeaveRoomAsync(string room)
    {
        // Also the undo of a failed first Join: its store call may have registered the connection's
        // lease before failing (e.g. a reply lost at the deadline), so it is released here too.
        HubMember.MarkLeft(Context);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, RoomGroups.For(room));
        await subscriptions.RemoveAsync(room, Context.ConnectionId);
        try
        {
            await store.ConnectionLeftAsync(room, ConnectionKey, CancellationToken.None);
            ticker.ScheduleGraceSweep(room);
        }
        catch (RoomException ex)
        {
            HubLog.LeaveFailed(logger, Context.ConnectionId, room, ex);
        }

        HubLog.Left(logger, Context.ConnectionId, room);
    }
}
