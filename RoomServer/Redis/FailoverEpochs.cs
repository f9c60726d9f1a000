using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// After a room's master was replaced by a promoted replica — a cluster shard's or a single server's failover
/// (RedisBackplane asks at every room subscription and re-check, in every topology; a restart is not one): a new epoch,
/// once per promotion (Scripts/failover.lua says
/// why), so members that saw events the dead master never replicated resync from a snapshot.
/// Apart from the store, which depends on the heartbeat, which depends on the backplane.
/// </summary>
public sealed class FailoverEpochs(RedisConnection redis, IOptions<RoomServerOptions> options)
{
    public async Task<RoomPosition> RenewAsync(string roomId)
    {
        var args = redis.Topology.ScriptArguments(roomId, options.Value.HistoryLength, "", [RoomIds.NewEpoch()]);
        // Confirmed only when it renewed the epoch: unchanged, there is nothing of its own to wait for.
        var result = await redis.EvaluateConfirmedAsync(RedisScripts.Failover, RedisKeys.ForRoom(roomId), args, Renewed);
        var reply = new ScriptReply((RedisResult[])result!);
        return reply.Status switch
        {
            "ok" => PositionReply.Read(reply),
            RoomErrorCodes.RoomNotFound => throw RoomException.FromCode(RoomErrorCodes.RoomNotFound, roomId),
            var other => throw RoomException.Unavailable($"failover.lua answered {other}"),
        };
    }

    /// <summary>failover.lua's last element: 'renewed' when it wrote a new epoch.</summary>
    internal static bool Renewed(RedisResult result) =>
        (RedisResult[])result! is { Length: 4 } items && (string?)items[3] == "renewed";
}
