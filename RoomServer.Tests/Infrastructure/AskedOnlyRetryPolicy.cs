using Microsoft.AspNetCore.SignalR.Client;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// An automatic-reconnect policy that only records that the client wanted to reconnect, then gives up. The official
/// client asks its policy only when the server's close allowed a reconnect; after <c>Abort()</c> it goes straight to
/// <c>Closed</c> without asking.
/// </summary>
public sealed class AskedOnlyRetryPolicy : IRetryPolicy
{
    private int _asked;

    /// <summary>How many times the client asked whether to reconnect.</summary>
    public int Asked => Volatile.Read(ref _asked);

    public TimeSpan? NextRetryDelay(RetryContext retryContext)
    {
        Interlocked.Increment(ref _asked);
        return null;
    }
}
