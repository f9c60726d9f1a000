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
    private static readonly PerRoomCache<RedisKey[]> RoomKeys = new(BuildForRoom);

    /// <summary>
    /// The order every script expects its KEYS in (see Scripts/prelude.lua). Cached per room and shared by
    /// every call: never write to it (copy it to add a key, as <see cref="ForNotice"/> does).
    /// </summary>
    public static RedisKey[] ForRoom(string roomId) => RoomKeys.Get(roomId);

    private static RedisKey[] BuildForRoom(string roomId)
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
    public static RedisKey ApiKeyRooms(string apiKeyId) => "rs:key:{" + RequireKeyId(apiKeyId) + "}:rooms";

    /// <summary>
    /// notice.lua's KEYS with an <c>Idempotency-Key</c>: the room's, then the key's record in the room's slot,
    /// <c>rs:{roomId}:notice:KEYID:KEY</c> (so the record and the notice are one script's).
    /// </summary>
    public static RedisKey[] ForNotice(string roomId, IdempotencyKey key) =>
        [.. ForRoom(roomId), Prefix(roomId) + "notice:" + RequireKeyId(key.CallerId) + ":" + RoomIds.RequireIdempotencyKey(key.Key)];

    /// <summary>
    /// create.lua's KEYS for a room made for an <c>Idempotency-Key</c>: the room's, then its once-mark
    /// <c>rs:{roomId}:created</c> (the epoch it was made with), which outlives the room for the key's lifetime.
    /// </summary>
    public static RedisKey[] ForCreateOnce(string roomId) => [.. ForRoom(roomId), Prefix(roomId) + "created"];

    /// <summary>delete.lua's KEYS: the room's, then the mark a "not found" writes where writes are confirmed, <c>rs:{roomId}:deleting</c>.</summary>
    public static RedisKey[] ForDelete(string roomId) => [.. ForRoom(roomId), Prefix(roomId) + "deleting"];

    /// <summary>
    /// The record of an <c>Idempotency-Key</c> of a write outside any room (Scripts/idem_claim.lua), on the
    /// API key's slot beside its rooms: <c>rs:key:{KEYID}:idem:rooms:KEY</c> or <c>…:idem:announcements:KEY</c>.
    /// </summary>
    public static RedisKey IdempotencyRecord(IdempotencyScope scope, IdempotencyKey key) =>
        "rs:key:{" + RequireKeyId(key.CallerId) + "}:idem:" + (scope == IdempotencyScope.Rooms ? "rooms" : "announcements") + ":"
        + RoomIds.RequireIdempotencyKey(key.Key);

    /// <summary>state.lua's KEYS: the room's, then its order outbox and delivery status (last, as the script reads them).</summary>
    public static RedisKey[] ForStateChange(string roomId) => [.. ForRoom(roomId), Orders(roomId), OrderDeliveries(roomId)];

    /// <summary>The room's order outbox (DESIGN.md §8): a stream with one consumer group, in the room's slot.</summary>
    public static RedisKey Orders(string roomId) => Prefix(roomId) + "orders";

    /// <summary>Delivery status per record and endpoint: field <c>orderId endpointUrl</c> → JSON.</summary>
    public static RedisKey OrderDeliveries(string roomId) => Prefix(roomId) + "deliveries";

    /// <summary>The room's dead letters already put back by a retry (a set of their ids), so that two retries of one at once put it back once.</summary>
    public static RedisKey Requeued(string roomId) => Prefix(roomId) + "requeued";

    /// <summary>
    /// The room's dead letters an operator deleted (a set of their ids), so that a retry racing the delete does not put
    /// one back, nor a delete remove one a retry put back: of the two, only the first has its effect.
    /// </summary>
    public static RedisKey Discarded(string roomId) => Prefix(roomId) + "discarded";

    /// <summary>Rooms whose outbox may hold records to deliver (sorted set, score = announcement time in ms). Global: single-key commands only.</summary>
    public static readonly RedisKey OrderRooms = "rs:orders:rooms";

    /// <summary>Dead-lettered deliveries (stream). Global: single-key commands only.</summary>
    public static readonly RedisKey DeadLetters = "rs:orders:deadletters";

    /// <summary>The SCAN pattern of every room's outbox (the sweep).</summary>
    public const string OrdersPattern = "rs:{*}:orders";

    /// <summary>The room's pub/sub channel. Always literal: a room id is never a pattern.</summary>
    public static RedisChannel Events(string roomId) => new(Prefix(roomId) + "events", RedisChannel.PatternMode.Literal);

    /// <summary>
    /// The same channel, sharded on a Redis Cluster (SPUBLISH/SSUBSCRIBE on the slot of the room's hash
    /// tag, so it lives on the master that holds the room's keys).
    /// </summary>
    public static RedisChannel Events(string roomId, bool sharded) =>
        sharded ? RedisChannel.Sharded(Prefix(roomId) + "events") : Events(roomId);

    /// <summary>Which live process holds a ReplicaId (ReplicaIdGuard): its nonce and renewal number, on a lease it keeps renewing.</summary>
    public static RedisKey ReplicaHolder(string replicaId) => "rs:replica:" + replicaId;

    /// <summary>
    /// A replica's own heartbeat channel (BackplaneHeartbeat), apart from every room's
    /// <c>rs:{id}:events</c>. Literal, like every channel.
    /// </summary>
    public static RedisChannel Heartbeat(string replicaId, string processNonce) =>
        RedisChannel.Literal("rs-heartbeat:" + replicaId + ":" + processNonce);

    /// <summary>
    /// A replica's heartbeat channel for one shard of a Redis Cluster with sharded pub/sub: sharded, its
    /// hash tag <paramref name="tag"/> chosen so the slot falls on that shard's master.
    /// </summary>
    public static RedisChannel ShardHeartbeat(int tag, string replicaId, string processNonce) =>
        RedisChannel.Sharded("rs-heartbeat:{" + tag.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}:" + replicaId + ":" + processNonce);

    private static string RequireKeyId(string apiKeyId) =>
        apiKeyId.Length is > 0 and <= 64 && apiKeyId.All(char.IsAsciiHexDigitLower)
            ? apiKeyId
            : throw RoomException.Invalid("an API key id is lowercase hex");

    private static string Prefix(string roomId) => "rs:{" + RoomIds.RequireRoomId(roomId) + "}:";
}
