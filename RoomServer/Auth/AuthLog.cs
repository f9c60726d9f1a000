namespace RoomShare.RoomServer.Auth;

/// <summary>Why a caller was turned away — never the token or key itself.</summary>
internal static partial class AuthLog
{
    [LoggerMessage(5001, LogLevel.Information, "Token rejected on {Path}: {Reason}")]
    public static partial void TokenRejected(ILogger logger, string path, string reason);

    [LoggerMessage(5002, LogLevel.Information, "API key rejected on {Path}")]
    public static partial void ApiKeyRejected(ILogger logger, string path);

    [LoggerMessage(5003, LogLevel.Information, "Hub call {Method} on connection {ConnectionId} refused: its token has expired; closing the connection")]
    public static partial void ExpiredTokenCall(ILogger logger, string connectionId, string method);
}
