namespace RoomShare.RoomServer.Api;

/// <summary>The HTTP API's own log lines (never a key: an API key appears only as its id, Api/ApiKeyIds).</summary>
internal static partial class ApiLog
{
    [LoggerMessage(7001, LogLevel.Warning, "Room {RoomId} stays counted for API key {KeyId} until it is pruned: {Reason}")]
    public static partial void RoomNotForgotten(ILogger logger, string roomId, string keyId, string reason);

    [LoggerMessage(7003, LogLevel.Warning, "Room {RoomId} of an Idempotency-Key retry could not be counted again for API key {KeyId}: {Reason}")]
    public static partial void RoomNotCounted(ILogger logger, string roomId, string keyId, string reason);

    [LoggerMessage(7002, LogLevel.Warning, "Announcement {AnnouncementId} was sent but its Idempotency-Key was not marked sent: a retry with the key sends it again, with this id ({Reason})")]
    public static partial void AnnouncementNotMarkedSent(ILogger logger, string announcementId, string reason);

    [LoggerMessage(7004, LogLevel.Error, "{Method} {Path} failed with an unexpected error; answered 500 unavailable")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);
}
