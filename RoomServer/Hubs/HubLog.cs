namespace RoomShare.RoomServer.Hubs;

internal static partial class HubLog
{
    [LoggerMessage(3001, LogLevel.Debug, "Connection {ConnectionId} of {MemberId} joined room {RoomId} at version {Version}")]
    public static partial void Joined(ILogger logger, string connectionId, string memberId, string roomId, long version);

    [LoggerMessage(3002, LogLevel.Debug, "Connection {ConnectionId} left room {RoomId}")]
    public static partial void Left(ILogger logger, string connectionId, string roomId);

    [LoggerMessage(3003, LogLevel.Debug, "Connection {ConnectionId}: hub call {Method} rejected: {Code}")]
    public static partial void Rejected(ILogger logger, string connectionId, string method, string code);

    [LoggerMessage(3004, LogLevel.Warning, "Recording that connection {ConnectionId} left room {RoomId} failed; its lease will expire")]
    public static partial void LeaveFailed(ILogger logger, string connectionId, string roomId, Exception exception);

    [LoggerMessage(3006, LogLevel.Error, "Connection {ConnectionId}: hub call {Method} failed unexpectedly")]
    public static partial void Failed(ILogger logger, string connectionId, string method, Exception exception);

    [LoggerMessage(3005, LogLevel.Information, "Connection {ConnectionId} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(3010, LogLevel.Warning, "Member {MemberId} was removed from room {RoomId}, but the Removed notice could not be sent")]
    public static partial void RemovedNoticeFailed(ILogger logger, string roomId, string memberId, Exception exception);

    [LoggerMessage(3012, LogLevel.Warning, "Member {MemberId} was removed from room {RoomId}, but the removal could not be broadcast to the replicas that do not follow the room")]
    public static partial void RemovalBroadcastFailed(ILogger logger, string roomId, string memberId, Exception exception);

    [LoggerMessage(3011, LogLevel.Information, "Connection {ConnectionId} of {Member} (room/member) closed at once: the member already has {Limit} connections open on this replica")]
    public static partial void OverOpenConnectionLimit(ILogger logger, string connectionId, string member, int limit);
}
