namespace RoomShare.RoomServer.Redis;

internal static partial class RedisLog
{
    [LoggerMessage(1001, LogLevel.Information, "Connecting to Redis at {Endpoints} as replica {ReplicaId}")]
    public static partial void Connecting(ILogger logger, string endpoints, string replicaId);

    [LoggerMessage(1002, LogLevel.Warning, "Replica {ReplicaId}: Redis {ConnectionType} connection to {Endpoint} failed: {FailureType}")]
    public static partial void ConnectionFailed(ILogger logger, string replicaId, string connectionType, string endpoint, string failureType, Exception? exception);

    [LoggerMessage(1003, LogLevel.Information, "Replica {ReplicaId}: Redis {ConnectionType} connection to {Endpoint} restored")]
    public static partial void ConnectionRestored(ILogger logger, string replicaId, string connectionType, string endpoint);

    // No stack trace: during an outage every call fails the same way, and the reason says it all.
    [LoggerMessage(1004, LogLevel.Warning, "Redis call {Operation} failed, answering unavailable: {Reason}")]
    public static partial void CallFailed(ILogger logger, string operation, string reason);

    [LoggerMessage(1005, LogLevel.Error, "Redis script {Operation} returned an unexpected reply: {Reply}")]
    public static partial void UnexpectedReply(ILogger logger, string operation, string reply);

    [LoggerMessage(1006, LogLevel.Information, "Replica {ReplicaId} re-subscribed and verified {Verified} of {Total} room channels after the backplane reconnected")]
    public static partial void Resubscribed(ILogger logger, string replicaId, int verified, int total);

    [LoggerMessage(1007, LogLevel.Warning, "Re-subscribing room {RoomId} failed; its members still catch up through Position and Join(since)")]
    public static partial void ResubscribeFailed(ILogger logger, string roomId, Exception exception);

    [LoggerMessage(1008, LogLevel.Warning, "Dropped an unreadable message on {Channel}")]
    public static partial void BadMessage(ILogger logger, string channel, Exception? exception);

    [LoggerMessage(1009, LogLevel.Error, "Replica {ReplicaId} is deaf: its backplane heartbeat has not come back for {SilentMilliseconds} ms; /readyz fails and writes answer unavailable while it re-subscribes")]
    public static partial void BackplaneDeaf(ILogger logger, string replicaId, double silentMilliseconds);

    [LoggerMessage(1010, LogLevel.Information, "Replica {ReplicaId} hears its backplane again; members are sent their position")]
    public static partial void BackplaneHearing(ILogger logger, string replicaId);

    [LoggerMessage(1011, LogLevel.Information, "Replica {ReplicaId} uses {Kind}; room channels {Channels}; replicas to acknowledge each write: {Replicas}")]
    public static partial void TopologyResolved(ILogger logger, string replicaId, string kind, string channels, int replicas);

    [LoggerMessage(1012, LogLevel.Critical, "Stopping: {Reason}")]
    public static partial void Misconfigured(ILogger logger, string reason);

    [LoggerMessage(1013, LogLevel.Warning, "Write {Operation} not confirmed by {Wanted} replica(s) (confirmed: {Confirmed}; {Reason}); answering unavailable")]
    public static partial void WriteNotConfirmed(ILogger logger, string operation, int wanted, long confirmed, string reason);

    [LoggerMessage(1017, LogLevel.Warning, "Write {Operation}: the node that ran it was not recorded (another Redis profiler registered?); every master must confirm it")]
    public static partial void WriteNodeNotRecorded(ILogger logger, string operation);

    [LoggerMessage(1014, LogLevel.Debug, "Replica {ReplicaId}: hash slot {Slot} moved from {OldEndpoint} to {NewEndpoint}")]
    public static partial void SlotMoved(ILogger logger, string replicaId, int slot, string oldEndpoint, string newEndpoint);

    [LoggerMessage(1015, LogLevel.Information, "Room {RoomId}'s shard failed over: its epoch is {Epoch} at version {Version}, so its members resync from a snapshot")]
    public static partial void EpochAfterFailover(ILogger logger, string roomId, string epoch, long version);

    [LoggerMessage(1016, LogLevel.Information, "Replica {ReplicaId}: the masters' slot ranges changed (a reshard); {Made} new heartbeat channel(s), {Dropped} dropped")]
    public static partial void HeartbeatsFollowedReshard(ILogger logger, string replicaId, int made, int dropped);

    [LoggerMessage(1018, LogLevel.Warning, "Not subscribed to the removals channel yet ({Reason}); retrying")]
    public static partial void RemovalChannelNotSubscribed(ILogger logger, string reason);

    [LoggerMessage(1019, LogLevel.Warning, "A message on the removals channel is not a removal ({Length} characters): {Start}")]
    public static partial void RemovalUnreadable(ILogger logger, int length, string start);

    [LoggerMessage(1020, LogLevel.Error, "Subscribing to the removals channel failed unexpectedly; the next restore after a loss tries again")]
    public static partial void RemovalChannelAttemptCrashed(ILogger logger, Exception exception);

    [LoggerMessage(1021, LogLevel.Error, "Another live process holds RoomServer__ReplicaId '{ReplicaId}', the holder of its claims on order records: this one claims none and reports not ready until it holds the id again. Give each replica its own id")]
    public static partial void ReplicaIdShared(ILogger logger, string replicaId);

    [LoggerMessage(1022, LogLevel.Information, "This process holds RoomServer__ReplicaId '{ReplicaId}' again: ready, and claiming order records")]
    public static partial void ReplicaIdHeldAgain(ILogger logger, string replicaId);

    [LoggerMessage(1023, LogLevel.Warning, "SignalR's backplane channel {Channel} is not subscribed yet ({Reason}); trying again in 1 s")]
    public static partial void SignalRChannelNotSubscribed(ILogger logger, string channel, string reason);

    [LoggerMessage(1024, LogLevel.Warning, "Replica {ReplicaId} heard a message on {Channel} twice: it is subscribed on two nodes of its shard (the client library's race after a failover); subscribing it again, with the copy on a replica unsubscribed")]
    public static partial void ChannelHeardTwice(ILogger logger, string replicaId, string channel);

    [LoggerMessage(1025, LogLevel.Error, "The second look at the room channels' subscriptions after a pass failed; the next pass looks again")]
    public static partial void SecondLookFailed(ILogger logger, Exception exception);

    [LoggerMessage(1026, LogLevel.Warning, "Closing {ClientName}'s subscription link to {Node}, a replica, which holds {Subscriptions} shard subscription(s) (left by a failover); the client library subscribes what it tracked there on the masters")]
    public static partial void ReplicaLinkDropped(ILogger logger, string clientName, string node, int subscriptions);

    [LoggerMessage(1027, LogLevel.Warning, "Could not look at the subscription links on {Node} ({Reason}); a failover's leftovers there stay until a look gets through (ROLE, CLIENT LIST and CLIENT KILL must be allowed)")]
    public static partial void ReplicaLinksNotRead(ILogger logger, string node, string reason);

    [LoggerMessage(1028, LogLevel.Error, "A look at SignalR's links to replica nodes failed unexpectedly; the next look tries again")]
    public static partial void ReplicaLinkLookFailed(ILogger logger, Exception exception);
}
