using System.Net;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// The hub connection was not established: the negotiate or the WebSocket upgrade was refused (e.g.
/// 401 for a bad token, <see cref="StatusCode"/> set), or the SignalR handshake returned an error.
/// </summary>
public sealed class HubConnectException : Exception
{
    public HubConnectException()
    {
    }

    public HubConnectException(string message)
        : base(message)
    {
    }

    public HubConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HubConnectException(string message, HttpStatusCode? statusCode, Exception? innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status of a refused negotiate or upgrade; null when the failure happened after it.</summary>
    public HttpStatusCode? StatusCode { get; }
}
