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
/// which is what keeps every member's order identical across replicas. Which room a connection is in
/// is <see cref="RoomMembership"/>'s to know.
/// </summary>
[Authorize(Policy = AuthPolicies.Member)]
public sealed class RoomHub(
    IRoomStore store,
    RoomMembership membership,
    RoomTicker ticker,
    MemberRemover remover,
    NotJoinedCheckRate notJoinedChecks,
    MemberJoinRate joinRate,
    IOptions<RoomServerOptions> options,
    TimeProvider time,
    ILogger<RoomHub> logger) : Hub<IRoomClient>
{
    private readonly RoomServerOptions _options = options.Value;

    /// <summary>
    /// Whether this call (a hub instance serves one) was a retry answered from its opId: the write was applied
    /// before and nothing was now, so <see cref="RoomHubFilter"/> does not count it as a write again.
    /// </summary>
    internal bool AnsweredFromOpId { get; private set; }

    /// <summary>
    /// Joins (or re-joins) the token's room. The connection enters the room (and its channel) BEFORE
    /// the store is read, so no event can fall between the result and the live stream; the
    /// client drops live events at or below the returned position. What arrives before the store has
    /// admitted the Join is kept back, so a member it refuses — removed since their token was issued,
    /// decided in the same script (or lock) as the join — is sent nothing of the room.
    /// </summary>
    public async Task<JoinResult> Join(JsonElement roomId, JsonElement since)
    {
        var room = HubArguments.RoomId(roomId);
        var member = HubMember.ForRoom(Context, room);
        var from = HubArguments.Since(since);
        if (membership.WasRemovedFrom(Context.ConnectionId, room))
        {
            // The store refused this connection's token already (a refused Join, or a tick's sweep), and it
            // never admits it again: refused without entering the room, as every other call is (JoinedMemberAsync).
            throw RoomException.FromCode(RoomErrorCodes.Forbidden, room);
        }

        // Paced per member before anything changes: a refused Join enters nothing and asks the store nothing. After
        // the arguments are read, so a malformed call (answered without the store) spends none of the member's Joins.
        joinRate.Take(member);
        var firstJoin = !membership.IsJoined(Context.ConnectionId, room);
        if (firstJoin)
        {
            await membership.EnterAsync(room, Context.ConnectionId, member.MemberId, member.TokenRemovalGeneration, Context.ConnectionAborted);
        }

        try
        {
            var outcome = await store.JoinAsync(
                new JoinRequest(room, member.MemberId, member.DisplayName, ConnectionKey, from, time.Stamp(), member.Role, member.TokenRemovalGeneration),
                Context.ConnectionAborted);
            membership.Admit(room, Context.ConnectionId);
            await SendPresenceCatchUpAsync(room, outcome);

            // Last: a connection counts as joined only once everything above has succeeded, so a
            // retried Join after any failure starts again from entering the room.
            membership.MarkJoined(room, Context.ConnectionId);

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
        catch (Exception ex) when (firstJoin || Context.ConnectionAborted.IsCancellationRequested || ex is RoomException { Code: RoomErrorCodes.Forbidden })
        {
            // Forbidden for a connection already in the room: its member was removed, and this replica
            // may have missed the event that closes it. It reads the room no longer from here on;
            // RoomHubFilter closes it (forbidden ends membership).
            await LeaveRoomAsync(room, removed: ex is RoomException { Code: RoomErrorCodes.Forbidden });
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
        var member = await JoinedMemberAsync(room);
        return await store.RefreshAsync(new RefreshRequest(room, member.MemberId, time.Stamp(), member.TokenRemovalGeneration), Context.ConnectionAborted);
    }

    /// <summary>The owner removes a member for good; not themself, nor anyone who joined as an owner, nor a member the room never had (<c>invalid_argument</c>).</summary>
    public async Task<VersionAck> RemoveMember(JsonElement roomId, JsonElement memberId)
    {
        var room = HubArguments.RoomId(roomId);
        var member = await JoinedMemberAsync(room);
        if (!member.IsOwner)
        {
            throw new RoomException(RoomErrorCodes.Forbidden, "only the room's owner may remove members");
        }

        var removed = HubArguments.MemberId(memberId);
        if (removed == member.MemberId)
        {
            throw RoomException.OwnerNotRemovable(removed);
        }

        return await remover.RemoveAsync(room, removed, member.MemberId, Context.ConnectionAborted);
    }

    public async Task<VersionAck> SetRoomState(JsonElement roomId, JsonElement state)
    {
        var room = HubArguments.RoomId(roomId);
        var member = await JoinedMemberAsync(room);
        if (!member.IsOwner)
        {
            // Before the state is read, as RemoveMember: a member's token gives no right to the call, whatever it asks.
            throw new RoomException(RoomErrorCodes.Forbidden, "only the room's owner may change its state");
        }

        var target = HubArguments.State(state);

        return await store.SetStateAsync(new StateChange(room, target, member.MemberId, time.Stamp()), Context.ConnectionAborted);
    }

    /// <summary>Stops this connection's events for the room. Leaving a room not joined is a no-op.</summary>
    public async Task Leave(JsonElement roomId)
    {
        var room = HubArguments.RoomId(roomId);
        HubMember.ForRoom(Context, room);
        if (membership.IsJoined(Context.ConnectionId, room))
        {
            await LeaveRoomAsync(room);
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (membership.RoomOf(Context.ConnectionId) is { } room)
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

    /// <summary>
    /// The member of a joined room, at no cost (the call's own script checks the removal again). A change before
    /// <c>Join</c> is refused (<see cref="RefuseNotJoinedAsync"/>).
    /// </summary>
    private ValueTask<HubMember> JoinedMemberAsync(string room)
    {
        var member = HubMember.ForRoom(Context, room);
        return membership.IsJoined(Context.ConnectionId, room)
            ? ValueTask.FromResult(member)
            : new ValueTask<HubMember>(RefuseNotJoinedAsync(member));
    }

    /// <summary>
    /// A change from a connection not in the room: <c>forbidden</c> when its member was removed since its token
    /// was issued (DESIGN.md §3) — a tick or a refused Join took it out of the room, or the store says so — else
    /// "call Join first". Asking the store is paced per member (<see cref="NotJoinedCheckRate"/>): past it,
    /// <c>rate_limited</c>, so calls that never join cost the store a bounded amount.
    /// </summary>
    private async Task<HubMember> RefuseNotJoinedAsync(HubMember member)
    {
        if (membership.WasRemovedFrom(Context.ConnectionId, member.RoomId))
        {
            throw RoomException.FromCode(RoomErrorCodes.Forbidden, member.RoomId);
        }

        notJoinedChecks.Take(member);
        if (await RemovedSinceTokenAsync(member))
        {
            throw RoomException.FromCode(RoomErrorCodes.Forbidden, member.RoomId);
        }

        throw RoomException.Invalid("call Join(roomId, since) before changing the room");
    }

    /// <summary>
    /// Asks the store for a device that never joined, which nothing on this replica knows to be removed: no Join
    /// was refused, no tick renews it, and the removal closes it only a moment later. Only this refusal asks.
    /// </summary>
    private async Task<bool> RemovedSinceTokenAsync(HubMember member)
    {
        try
        {
            var generation = await store.RemovalGenerationAsync(member.RoomId, member.MemberId, Context.ConnectionAborted);
            if (member.TokenRemovalGeneration >= generation)
            {
                return false;
            }
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.Unavailable)
        {
            // The store cannot say: the call still needs a Join, and the Join's own script checks the removal.
            return false;
        }

        // For good: the connection's later calls, a Join too, are refused without asking again until it is closed.
        await membership.LeaveRemovedAsync(member.RoomId, Context.ConnectionId);
        return true;
    }

    private async Task<ChoiceAck> ChangeChoice(JsonElement roomId, JsonElement menuId, JsonElement value, JsonElement opId, ChoiceMode mode, string valueName)
    {
        var room = HubArguments.RoomId(roomId);
        var member = await JoinedMemberAsync(room);
        string menu;
        int amount;
        try
        {
            menu = HubArguments.MenuId(menuId);
            amount = HubArguments.WholeNumber(value, valueName);
            ChoiceRules.Validate(mode, amount, _options.MaxQuantity);
        }
        catch (RoomException) when (HubArguments.IsValidOpId(opId))
        {
            // A known opId answers as it did, whatever the retry's arguments (DESIGN.md §2) — bad ones too.
            if (await ReplayAsync(new ChoiceReplay(room, member.MemberId, opId.GetString()!, member.TokenRemovalGeneration)) is { } original)
            {
                AnsweredFromOpId = true;
                return original;
            }

            throw;
        }

        var op = HubArguments.OpId(opId);
        var outcome = await store.ChangeChoiceAsync(
            new ChoiceChange(room, member.MemberId, menu, mode, amount, op, time.Stamp(), member.TokenRemovalGeneration),
            Context.ConnectionAborted);
        AnsweredFromOpId = outcome.Replayed;
        return outcome.Ack;
    }

    /// <summary>
    /// The original result of a retried change's opId; null when the opId is not known, or the room is
    /// gone or the member removed: then the call gets its own arguments' error, as without an opId. A
    /// lookup that cannot be answered (the store away, a deaf replica) is <c>unavailable</c>: the opId
    /// may be a write already applied, whose retry must not be told its arguments are wrong for good.
    /// </summary>
    private async Task<ChoiceAck?> ReplayAsync(ChoiceReplay replay)
    {
        try
        {
            return await store.ReplayChoiceAsync(replay, Context.ConnectionAborted);
        }
        catch (RoomException ex) when (ex.Code != RoomErrorCodes.Unavailable)
        {
            return null;
        }
    }

    /// <summary>
    /// Takes the connection out of the room first (so it receives nothing more, and the channel's
    /// reference count drops), then out of presence. A presence failure is only logged: the
    /// connection's lease expires by itself and the survivors' sweep announces the member offline.
    /// </summary>
    private async Task LeaveRoomAsync(string room, bool removed = false)
    {
        // Also the undo of a failed first Join: its store call may have registered the connection's
        // lease before failing (e.g. a reply lost at the deadline), so it is released here too.
        await (removed ? membership.LeaveRemovedAsync(room, Context.ConnectionId) : membership.LeaveAsync(room, Context.ConnectionId));
        try
        {
            await ticker.ConnectionLeftAsync(room, ConnectionKey);
        }
        catch (RoomException ex)
        {
            HubLog.LeaveFailed(logger, Context.ConnectionId, room, ex);
        }

        HubLog.Left(logger, Context.ConnectionId, room);
    }
}
