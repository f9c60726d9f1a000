using System.Text.Json;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's store: every change is one Lua script (Scripts/), which validates, applies, bumps
/// the version, appends to the audit trail (which Join(since) replays from), refreshes the TTL and
/// publishes — atomically.
/// This class only marshals arguments (in each script's ARGV order) and replies (read by the reply
/// readers of <see cref="ScriptReply"/>); the rules live in the scripts and in Rooms/.
/// </summary>
public sealed class RedisRoomStore(
    RedisConnection redis,
    BackplaneHeartbeat heartbeat,
    ReplicaIdGuard replicaId,
    OrderOutboxSignal orders,
    SignalRChannelWaits signalRChannels,
    IOptions<RoomServerOptions> options,
    ILogger<RedisRoomStore> logger) : IRoomStore
{
    private readonly RoomServerOptions _options = options.Value;

    private readonly RoomLimits _limits = options.Value.Limits.ForRooms();

    private long GraceMilliseconds => _options.PresenceGraceSeconds * 1000L;

    /// <summary>The write-rate argument of the scripts for a writer: none for the API (limited per key over HTTP).</summary>
    private string MemberOpsFor(string by) => by == MemberOpBuckets.ApiCaller ? "" : _limits.MemberOps.ScriptArgument;

    public async Task<bool> CreateAsync(NewRoom room, CancellationToken cancellationToken)
    {
        var reply = await RunWriteAsync(RedisScripts.Create, room.RoomId, room.At, CreateArguments(room, onceSeconds: 0));
        return reply.Status switch
        {
            "ok" => true,
            "exists" => false,
            var other => throw Unexpected("create", other),
        };
    }

    public async Task<RoomCreation> CreateOnceAsync(NewRoom room, bool replayOnly, CancellationToken cancellationToken)
    {
        var onceSeconds = (long)_options.IdempotencyKeyWindow.TotalSeconds;
        var reply = await RunWriteAsync(
            RedisScripts.Create, room.RoomId, room.At, CreateArguments(room, onceSeconds, replayOnly), RedisKeys.ForCreateOnce(room.RoomId));
        return reply.Status switch
        {
            "ok" when reply.Length == 1 => RoomCreation.Created,
            "ok" when reply.Text(1) == "exists" => RoomCreation.Exists,
            "ok" when reply.Text(1) == "gone" => RoomCreation.Gone,
            "exists" => RoomCreation.Taken,
            "absent" => RoomCreation.NotCreated,
            var other => throw Unexpected("create", other),
        };
    }

    /// <summary>create.lua's ARGV from 4 on.</summary>
    private RedisValue[] CreateArguments(NewRoom room, long onceSeconds, bool replayOnly = false)
    {
        var args = new List<RedisValue>
        {
            room.RoomId,
            room.Epoch,
            room.Name,
            JsonSerializer.Serialize(room.Menu, RoomChannelProtocol.Json),
            (long)Math.Ceiling(room.Ttl.TotalSeconds),
            _options.AuditLength,
            onceSeconds,
            replayOnly ? "1" : "0",
        };
        foreach (var item in room.Menu)
        {
            args.Add(item.Id);
            args.Add(item.PriceMinor);
        }

        return [.. args];
    }

    public Task<bool> ExistsAsync(string roomId, CancellationToken cancellationToken) =>
        redis.KeyExistsAsync(RedisKeys.Meta(roomId));

    public async Task<RoomSnapshot> GetSnapshotAsync(string roomId, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Snapshot, roomId, "", [GraceMilliseconds, (long)_options.PresenceLease.TotalMilliseconds]);
        EnsureOk(reply, roomId, expected: SnapshotReply.Status);
        return SnapshotReply.Read(roomId, reply, _options.MaxQuantity);
    }

    public async Task<EventPage> ReadEventsAsync(string roomId, long from, int limit, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Audit, roomId, "", [from, limit]);
        EnsureOk(reply, roomId);
        return AuditReply.Read(reply, limit);
    }

    public async Task<JoinOutcome> JoinAsync(JoinRequest request, CancellationToken cancellationToken)
    {
        var reply = await RunWriteAsync(RedisScripts.Join, request.RoomId, request.At,
        [
            request.MemberId,
            request.DisplayName,
            request.Connection.Field,
            (long)_options.PresenceLease.TotalMilliseconds,
            request.Since?.Epoch ?? "",
            request.Since?.Version ?? 0,
            GraceMilliseconds,
            request.Role,
            request.TokenRemovalGeneration,
            _limits.MaxMembers,
            _limits.MaxConnectionsPerMember,
            _limits.MaxMissedBytes,
        ]);
        switch (reply.Status)
        {
            case "room_full":
                throw RoomLimits.RoomFull(_limits.MaxMembers);
            case "too_many_connections":
                throw RoomLimits.TooManyConnections(_limits.MaxConnectionsPerMember);
        }

        if (reply.Status == MissedReply.Status)
        {
            return MissedReply.Read(reply);
        }

        EnsureOk(reply, request.RoomId, expected: SnapshotReply.Status);
        var snapshot = SnapshotReply.Read(request.RoomId, reply, _options.MaxQuantity);
        return new JoinOutcome(new RoomPosition(snapshot.Epoch, snapshot.Version), snapshot, null);
    }

    public async Task<ChoiceOutcome> ChangeChoiceAsync(ChoiceChange change, CancellationToken cancellationToken)
    {
        var reply = await RunWriteAsync(RedisScripts.Choice, change.RoomId, change.At,
        [
            change.MemberId,
            change.MenuId,
            change.Mode == ChoiceMode.Set ? "set" : "adjust",
            change.Value,
            change.OpId ?? "",
            _options.MaxQuantity,
            _options.IdempotencyWindow,
            change.TokenRemovalGeneration,
            _limits.MemberOps.ScriptArgument,
        ]);
        EnsureOk(reply, change.RoomId);
        return ChoiceReply.ReadOutcome(reply);
    }

    public async Task<ChoiceAck?> ReplayChoiceAsync(ChoiceReplay replay, CancellationToken cancellationToken)
    {
        // Through the confirmed path: it answers the client with an earlier write's result, which must be confirmed first.
        var reply = await RunWriteAsync(RedisScripts.ChoiceReplay, replay.RoomId, "", [replay.MemberId, replay.OpId, replay.TokenRemovalGeneration]);
        if (reply.Status == "unknown_op")
        {
            return null;
        }

        EnsureOk(reply, replay.RoomId);
        return ChoiceReply.Read(reply);
    }

    public async Task<VersionAck> SetStateAsync(StateChange change, CancellationToken cancellationToken)
    {
        RedisValue[] args =
        [
            change.State, change.By, MemberOpsFor(change.By), RedisOrderOutbox.Group, _limits.MaxUnsettledOrderRecords,
            .. RoomStates.SourcesOf(change.State).Select(s => (RedisValue)s),
        ];
        ScriptReply reply;
        try
        {
            reply = await RunWriteAsync(RedisScripts.State, change.RoomId, change.At, args, RedisKeys.ForStateChange(change.RoomId));
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.Unavailable && !ex.NothingSent)
        {
            // The transition may have been applied, its record written, with no answer: this replica's worker looks at
            // once (at worst it finds nothing) rather than leave the record to a sweep when the caller does not retry.
            orders.Notify(change.RoomId);
            throw;
        }

        if (reply.Status == "invalid_transition")
        {
            throw RoomException.Invalid($"a room cannot go from {reply.Detail} to {change.State}");
        }

        if (reply.Status == "order_records_waiting")
        {
            throw RoomLimits.TooManyOrderRecords(_limits.MaxUnsettledOrderRecords);
        }

        EnsureOk(reply, change.RoomId);
        orders.Notify(change.RoomId); // state.lua may have written an order record: this replica's worker starts on it
        return VersionReply.Read(reply);
    }

    public async Task<VersionAck> RefreshAsync(RefreshRequest request, CancellationToken cancellationToken)
    {
        var reply = await RunWriteAsync(RedisScripts.Refresh, request.RoomId, request.At, [request.MemberId, request.TokenRemovalGeneration, _limits.MemberOps.ScriptArgument]);
        EnsureOk(reply, request.RoomId);
        return VersionReply.Read(reply);
    }

    public async Task<RemovalAck> RemoveMemberAsync(MemberRemoval removal, CancellationToken cancellationToken)
    {
        var reply = await RunWriteAsync(RedisScripts.Remove, removal.RoomId, removal.At, [removal.MemberId, removal.By, MemberOpsFor(removal.By)]);
        if (reply.Status == RoomErrorCodes.InvalidArgument)
        {
            throw RemovalRefused(reply.Detail, removal.MemberId);
        }

        EnsureOk(reply, removal.RoomId);
        return RemovalReply.Read(reply);
    }

    public async Task<long> RemovalGenerationAsync(string roomId, string memberId, CancellationToken cancellationToken)
    {
        var generation = await redis.HashGetAsync(RedisKeys.Meta(roomId), "removed:" + memberId);
        return generation.HasValue ? (long)generation : 0;
    }

    private static RoomException RemovalRefused(string reason, string memberId) => reason == "owner"
        ? RoomException.OwnerNotRemovable(memberId)
        : RoomException.NotAMember(memberId);

    public async Task<VersionAck> PublishNoticeAsync(NoticePublication notice, CancellationToken cancellationToken)
    {
        if (notice.Idempotency is not { } key)
        {
            var plain = await RunWriteAsync(RedisScripts.Notice, notice.RoomId, notice.At, [notice.Kind, notice.Payload.GetRawText()]);
            EnsureOk(plain, notice.RoomId);
            return VersionReply.Read(plain);
        }

        var reply = await RunWriteAsync(
            RedisScripts.Notice,
            notice.RoomId,
            notice.At,
            [notice.Kind, notice.Payload.GetRawText(), key.RequestHash, (long)_options.IdempotencyKeyWindow.TotalSeconds],
            RedisKeys.ForNotice(notice.RoomId, key),
            // A refusal for a key already used is confirmed too: the record it is refused for may be one no replica holds.
            result => Wrote(result) || new ScriptReply((RedisResult[])result!).Status == "idempotency_mismatch");
        if (reply.Status == "idempotency_mismatch")
        {
            throw RoomException.IdempotencyKeyReused();
        }

        EnsureOk(reply, notice.RoomId);
        return VersionReply.Read(reply);
    }

    public async Task DeleteAsync(RoomDeletion deletion, CancellationToken cancellationToken)
    {
        // Where writes are confirmed, "not found" is confirmed too: it may answer the retry of a deletion a replica
        // does not hold yet (delete.lua).
        var confirmed = redis.Topology.ReplicasToAcknowledge > 0;
        var reply = await RunWriteAsync(
            RedisScripts.Delete,
            deletion.RoomId,
            deletion.At,
            [confirmed ? 1 : 0],
            RedisKeys.ForDelete(deletion.RoomId),
            result => Wrote(result) || (confirmed && new ScriptReply((RedisResult[])result!).Status == RoomErrorCodes.RoomNotFound));
        EnsureOk(reply, deletion.RoomId);
    }

    public async Task ConnectionLeftAsync(ConnectionDeparture departure, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Leave, departure.RoomId, "", [departure.Connection.Field]);
        EnsureOk(reply, departure.RoomId);
    }

    public string? ShardOf(string roomId) => heartbeat.ShardOf(roomId);

    public async Task<SweepOutcome> SweepPresenceAsync(PresenceSweep sweep, CancellationToken cancellationToken)
    {
        // Filled in place: every room this replica holds is swept each interval, so no per-connection arrays.
        var args = new RedisValue[2 + (3 * sweep.LiveConnections.Count)];
        args[0] = (long)_options.PresenceLease.TotalMilliseconds;
        args[1] = GraceMilliseconds;
        var at = 2;
        foreach (var connection in sweep.LiveConnections)
        {
            args[at++] = connection.Key.Field;
            args[at++] = connection.MemberId;
            args[at++] = connection.TokenRemovalGeneration;
        }

        var reply = await RunAsync(RedisScripts.Sweep, sweep.RoomId, "", args);
        EnsureOk(reply, sweep.RoomId);
        return SweepReply.Read(reply, sweep.LiveConnections);
    }

    /// <summary>
    /// Ready when Redis serves every room (a cluster: every slot's master reachable), the backplane
    /// hears itself, no other live process uses this replica's id (<see cref="ReplicaIdGuard"/>) and
    /// SignalR's once-subscribed channels are made (<see cref="SignalRChannelWaits"/>); otherwise why
    /// not. A ready cluster may still report what is degraded.
    /// </summary>
    public async Task<StoreReadiness> CheckReadinessAsync(CancellationToken cancellationToken)
    {
        var redisReadiness = await redis.CheckReadinessAsync();
        if (!redisReadiness.IsReady)
        {
            return redisReadiness;
        }

        if (!heartbeat.IsVerified)
        {
            return new StoreReadiness(false, $"the room backplane is deaf: this replica's heartbeat has not come back for {heartbeat.SinceLastHeard.TotalMilliseconds:F0} ms");
        }

        if (replicaId.Clash is { } clash)
        {
            return new StoreReadiness(false, clash); // lasting, and an operator's to mend: before a channel still being made
        }

        return signalRChannels.NotReadyReason is { } waiting ? new StoreReadiness(false, waiting) : redisReadiness;
    }

    /// <summary>Runs a script whose effect is presence or a read: nothing a client is acknowledged for.</summary>
    private async Task<ScriptReply> RunAsync(RedisScript script, string roomId, string at, RedisValue[] scriptArgs)
    {
        var result = await redis.EvaluateAsync(script, RedisKeys.ForRoom(roomId), Arguments(roomId, at, scriptArgs));
        return new ScriptReply((RedisResult[])result!);
    }

    /// <summary>
    /// Runs a script a client is acknowledged for; when it changed the room, a replica confirms it
    /// before the acknowledgement (RoomServer:Redis:ReplicasToAcknowledge, <see cref="RedisConnection.EvaluateConfirmedAsync"/>).
    /// A refusal (an error code) wrote nothing and needs no confirmation. Refused while the room's
    /// backplane is deaf (degraded mode): nobody here would hear its event, the writer included, and
    /// the client's retry may reach a replica that can.
    /// </summary>
    private async Task<ScriptReply> RunWriteAsync(RedisScript script, string roomId, string at, RedisValue[] scriptArgs, RedisKey[]? keys = null, Func<RedisResult, bool>? wrote = null)
    {
        heartbeat.EnsureHearing(roomId);
        var result = await redis.EvaluateConfirmedAsync(script, keys ?? RedisKeys.ForRoom(roomId), Arguments(roomId, at, scriptArgs), wrote ?? Wrote);
        return new ScriptReply((RedisResult[])result!);
    }

    internal static bool Wrote(RedisResult result) =>
        new ScriptReply((RedisResult[])result!).Status is "ok" or SnapshotReply.Status or MissedReply.Status;

    private RedisValue[] Arguments(string roomId, string at, RedisValue[] scriptArgs) =>
        redis.Topology.ScriptArguments(roomId, _options.HistoryLength, at, scriptArgs);

    /// <summary>Turns an error status into its <see cref="RoomException"/>.</summary>
    private void EnsureOk(ScriptReply reply, string roomId, string expected = "ok")
    {
        var status = reply.Status;
        if (status == expected)
        {
            return;
        }

        throw status switch
        {
            // The scripts' only rate_limited is the member's write bucket (take_member_op).
            RoomErrorCodes.RateLimited => RoomLimits.WritesTooFast(_limits.MemberOps),
            RoomErrorCodes.RoomNotFound or RoomErrorCodes.RoomLocked or RoomErrorCodes.RoomClosed or RoomErrorCodes.UnknownMenuItem
                or RoomErrorCodes.Forbidden => RoomException.FromCode(status, roomId),
            _ => Unexpected(expected, status),
        };
    }

    private RoomException Unexpected(string operation, string reply)
    {
        RedisLog.UnexpectedReply(logger, operation, reply);
        return RoomException.Unavailable("the room store gave an unexpected answer");
    }
}
