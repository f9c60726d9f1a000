using System.Collections;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Auth;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Puts the caller's connection, member and room ids in a logging scope around every hub call and
/// disconnect, so whatever is logged inside (a rejected call, a store failure) says whose it was —
/// in the JSON console format, OTLP, or any provider that reads scopes. The token itself never.
/// </summary>
public sealed class HubCallLogScope(ILogger<HubCallLogScope> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        using (logger.BeginScope(new CallerScope(invocationContext.Context)))
        {
            return await next(invocationContext);
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        using (logger.BeginScope(new CallerScope(context.Context)))
        {
            await next(context, exception);
        }
    }

    /// <summary>The scope's fields, read only when a provider formats them.</summary>
    private sealed class CallerScope(HubCallerContext context) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 3;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("ConnectionId", context.ConnectionId),
            1 => new("MemberId", context.User?.FindFirst(RoomClaims.MemberId)?.Value),
            2 => new("RoomId", context.User?.FindFirst(RoomClaims.RoomId)?.Value),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"connection {this[0].Value} member {this[1].Value} room {this[2].Value}";
    }
}
