using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's store: every change is one Lua script (Scripts/), which validates, applies, bumps
/// the version, appends to the capped history, refreshes the TTL and publishes — atomically.
/// This class only marshals arguments and replies; the rules live in the scripts and in Rooms/.
/// </summary>
public sealed class RedisRoomStore(
    RedisConnection redis,
    IOptions<RoomServerOptions> options,
    ILogger<RedisRoomStore> logger) : IRoomStore
{
    private readonly RoomServerOptions _options = options.Value;

    private long GraceMilliseconds => _options.PresenceGraceSeconds * 1000L;

    public async Task<bool> CreateAsync(NewRoom room, CancellationToken cancellationToken)
    {
        var args = new List<RedisValue>
        {
            room.RoomId,
            room.Epoch,
            room.Name,
            JsonSerializer.Serialize(room.Menu, RoomChannelProtocol.Json),
            (long)Math.Ceiling(room.Ttl.TotalSeconds),
        };
        foreach (var item in room.Menu)
        {
            args.Add(item.Id);
            args.Add(item.PriceMinor);
        }

        var reply = await RunAsync(RedisScripts.Create, room.RoomId, room.At, [.. args]);
        return Status(reply) switch
        {
            "ok" => true,
            "exists" => false,
            var other => throw Unexpected("create", other),
        };
    }

    public Task<bool> ExistsAsync(string roomId, CancellationToken cancellationToken) =>
        redis.KeyExistsAsync(RedisKeys.Meta(roomId));

    public async Task<RoomSnapshot> GetSnapshotAsync(string roomId, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Snapshot, roomId, "", [GraceMilliseconds]);
        EnsureOk(reply, roomId, expected: "snapshot");
        return ReadSnapshot(roomId, reply);
    }

    public async Task<JoinOutcome> JoinAsync(JoinRequest request, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Join, request.RoomId, request.At,
        [
            request.MemberId,
            request.DisplayName,
            request.Connection.Field,
            (long)_options.PresenceLease.TotalMilliseconds,
            request.Since?.Epoch ?? "",
            request.Since?.Version ?? 0,
            GraceMilliseconds,
            request.Role,
            request.TokenIssuedAtMs,
        ]);
        var status = Status(reply);
        if (status == "missed")
        {
            var missed = ((RedisResult[])reply[3]!).Select(e => RoomChannelProtocol.ParseHistoryEntry((string)e!)).ToList();
            var presence = SnapshotAssembler.Presence(Members(reply[4]), Online(reply[5]));
            return new JoinOutcome(new RoomPosition((string)reply[1]!, ParseLong(reply[2])), null, missed, presence, ParseLong(reply[6]));
        }

        EnsureOk(reply, request.RoomId, expected: "snapshot");
        var snapshot = ReadSnapshot(request.RoomId, reply);
        return new JoinOutcome(new RoomPosition(snapshot.Epoch, snapshot.Version), snapshot, null);
    }

    public async Task<ChoiceAck> ChangeChoiceAsync(ChoiceChange change, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Choice, change.RoomId, change.At,
        [
            change.MemberId,
            change.MenuId,
            change.Mode == ChoiceMode.Set ? "set" : "adjust",
            change.Value,
            change.OpId ?? "",
            _options.MaxQuantity,
            _options.IdempotencyWindow,
            change.TokenIssuedAtMs,
        ]);
        EnsureOk(reply, change.RoomId);
        return new ChoiceAck(ParseLong(reply[1]), (int)ParseLong(reply[2]));
    }

    public async Task<VersionAck> SetStateAsync(StateChange change, CancellationToken cancellationToken)
    {
        RedisValue[] args = [change.State, change.By, .. RoomStates.SourcesOf(change.State).Select(s => (RedisValue)s)];
        var reply = await RunAsync(RedisScripts.State, change.RoomId, change.At, args);
        if (Status(reply) == "invalid_transition")
        {
            throw RoomException.Invalid($"a room cannot go from {(string)reply[1]!} to {change.State}");
        }

        EnsureOk(reply, change.RoomId);
        return new VersionAck(ParseLong(reply[1]));
    }

    public async Task<VersionAck> RefreshAsync(RefreshRequest request, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Refresh, request.RoomId, request.At, [request.MemberId, request.TokenIssuedAtMs]);
        EnsureOk(reply, request.RoomId);
        return new VersionAck(ParseLong(reply[1]));
    }

    public async Task<VersionAck> RemoveMemberAsync(MemberRemoval removal, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Remove, removal.RoomId, removal.At, [removal.MemberId, removal.By, removal.AtMs]);
        if (Status(reply) == RoomErrorCodes.InvalidArgument)
        {
            throw RemovalRefused((string)reply[1]!, removal.MemberId);
        }

        EnsureOk(reply, removal.RoomId);
        return new VersionAck(ParseLong(reply[1]));
    }

    public async Task<bool> IsRemovedSinceAsync(string roomId, string memberId, long tokenIssuedAtMs, CancellationToken cancellationToken)
    {
        var removedAt = await redis.HashGetAsync(RedisKeys.Meta(roomId), "removed:" + memberId);
        return removedAt.HasValue && (long)removedAt > tokenIssuedAtMs;
    }

    private static RoomException RemovalRefused(string reason, string memberId) => reason == "owner"
        ? RoomException.OwnerNotRemovable(memberId)
        : RoomException.NotAMember(memberId);

    public async Task<VersionAck> PublishNoticeAsync(NoticePublication notice, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Notice, notice.RoomId, notice.At, [notice.Kind, notice.Payload.GetRawText()]);
        EnsureOk(reply, notice.RoomId);
        return new VersionAck(ParseLong(reply[1]));
    }

    public async Task DeleteAsync(RoomDeletion deletion, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Delete, deletion.RoomId, deletion.At, []);
        EnsureOk(reply, deletion.RoomId);
    }

    public async Task ConnectionLeftAsync(ConnectionDeparture departure, CancellationToken cancellationToken)
    {
        var reply = await RunAsync(RedisScripts.Leave, departure.RoomId, "", [departure.Connection.Field]);
        EnsureOk(reply, departure.RoomId);
    }

    public async Task<RoomPosition> SweepPresenceAsync(PresenceSweep sweep, CancellationToken cancellationToken)
    {
        RedisValue[] args =
        [
            (long)_options.PresenceLease.TotalMilliseconds,
            GraceMilliseconds,
            .. sweep.LiveConnections.SelectMany(c => new RedisValue[] { c.Key.Field, c.MemberId }),
        ];
        var reply = await RunAsync(RedisScripts.Sweep, sweep.RoomId, "", args);
        EnsureOk(reply, sweep.RoomId);
        return new RoomPosition((string)reply[1]!, ParseLong(reply[2]));
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            return false;
        }

        try
        {
            await redis.PingAsync();
            return true;
        }
        catch (RoomException)
        {
            return false;
        }
    }

    private async Task<RedisResult[]> RunAsync(RedisScript script, string roomId, string at, RedisValue[] scriptArgs)
    {
        RedisValue[] args = [RedisKeys.Events(roomId).ToString(), _options.HistoryLength, at, .. scriptArgs];
        var result = await redis.EvaluateAsync(script, RedisKeys.ForRoom(roomId), args);
        return (RedisResult[])result!;
    }

    private static string Status(RedisResult[] reply) => (string)reply[0]!;

    /// <summary>Turns an error status into its <see cref="RoomException"/>.</summary>
    private void EnsureOk(RedisResult[] reply, string roomId, string expected = "ok")
    {
        var status = Status(reply);
        if (status == expected)
        {
            return;
        }

        throw status switch
        {
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

    private static RoomSnapshot ReadSnapshot(string roomId, RedisResult[] reply)
    {
        var menu = JsonSerializer.Deserialize<List<MenuItem>>((string)reply[5]!, RoomChannelProtocol.Json) ?? [];
        var members = Members(reply[6]);
        var choices = Pairs((RedisValue[])reply[7]!).Select(p =>
        {
            var separator = p.Key.LastIndexOf(':');
            return (p.Key[..separator], p.Key[(separator + 1)..], int.Parse(p.Value, CultureInfo.InvariantCulture));
        });
        var online = Online(reply[8]);
        return SnapshotAssembler.Build(
            roomId,
            (string)reply[4]!,
            new RoomPosition((string)reply[1]!, ParseLong(reply[2])),
            (string)reply[3]!,
            menu,
            members,
            online,
            choices,
            ParseLong(reply[9]));
    }

    private static IEnumerable<(string MemberId, string DisplayName)> Members(RedisResult flat) =>
        Pairs((RedisValue[])flat!).Select(p => (p.Key, p.Value));

    private static HashSet<string> Online(RedisResult ids) =>
        ((RedisValue[])ids!).Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<KeyValuePair<string, string>> Pairs(RedisValue[] flat)
    {
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            yield return new KeyValuePair<string, string>((string)flat[i]!, (string)flat[i + 1]!);
        }
    }

    private static long ParseLong(RedisResult result) => long.Parse((string)result!, CultureInfo.InvariantCulture);
}
