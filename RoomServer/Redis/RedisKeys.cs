using StackExchange.Redis;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Names every Redis key and channel RoomShare uses (DESIGN.md §2). All of a room's keys share the
/// <c>{roomId}</c> hash tag, so on Redis Cluster they live on one slot and one Lua script may touch
/// them all. Ids are validated before a key is built from them.
/// </summary>
public static class RedisKeys
{
    /// <summary>The order every script expects its KEYS in (see Scripts/prelude.lua).</summary>
    public static RedisKey[] ForRoom(string roomId)
    {
        var prefix = Prefix(roomId);
        return
        [
            prefix + "meta",
            prefix + "choices",
            prefix + "members",
            prefix + "history",
            prefix + "presence",
            prefix + "ops",
            prefix + "oplog",
            prefix + "audit",
            prefix + "rate",
        ];
    }

    public static RedisKey Meta(string roomId) => Prefix(roomId) + "meta";

    /// <summary>
    /// The live rooms of one API key (a sorted set; Scripts/key_rooms.lua), on a slot of its own. The id
    /// is the key's digest prefix (Api/ApiKeyIds), never the key.
    /// </summary>
    public static RedisKey ApiKeyRooms(string apiKeyId) =>
        apiKeyId.Length is > 0 and <= 64 && apiKeyId.All(char.IsAsciiHexDigitLower)
            ? "rs:key:{" + apiKeyId + "}:rooms"
            : throw RoomException.Invalid("an API key id is lowercase hex");

    /// <summary>The room's pub/sub channel. Always literal: a room id is never a pattern.</summary>
    public static RedisChannel Events(string roomId) => new(Prefix(roomId) + "events", RedisChannel.PatternMode.Literal);

    /// <summary>
    /// A replica's own heartbeat channel (BackplaneHeartbeat), apart from every room's
    /// <c>rs:{id}:events</c>. Literal, like every channel.
    /// </summary>
    public static RedisChannel Heartbeat(string replicaId, string processNonce) =>
        RedisChannel.Literal("rs-heartbeat:" + replicaId + ":" + processNonce);

    private static string Prefix(string roomId) => "rs:{" + RoomIds.RequireRoomId(roomId) + "}:";
}
