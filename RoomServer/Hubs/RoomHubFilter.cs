using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The hub edge of the error vocabulary: rate-limits each connection, and turns a
/// <see cref="RoomException"/> into a HubException whose message starts with its code
/// (<c>room_locked: ...</c>); any other failure of a call becomes <c>unavailable: ...</c>. The connection
/// survives every such error.
/// </summary>
public sealed class RoomHubFilter(IOptions<RoomServerOptions> options, RoomMetrics metrics, ILogger<RoomHubFilter> logger) : IHubFilter
{
    private const string BudgetKey = "roomshare.budget";

    /// <summary>How long a call's error has to reach its client before the connection it ends is closed.</summary>
    private static readonly TimeSpan ErrorHeadStart = TimeSpan.FromMilliseconds(200);

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = invocationContext.HubMethodName;
        try
        {
            if (!BudgetOf(invocationContext.Context).TryTake())
            {
                throw new RoomException(RoomErrorCodes.RateLimited, $"too many calls on this connection (at most {options.Value.Limits.HubCallsPerSecond} a second, bursts of twice that); slow down");
            }

            // A draining replica finishes what it started and takes nothing new: the client retries
            // (same opId) once it has reconnected to another replica. The call stays counted until SignalR has
            // written its answer and disposed the call's scope (DrainCountedCall), not just until this returns.
            if (!invocationContext.ServiceProvider.GetRequiredService<DrainCountedCall>().TryBegin())
            {
                // Closing it now sends the client to another replica at once, instead of failing its
                // calls until its batch comes up; the close lets it reconnect.
                CloseSoonAllowingReconnect(invocationContext.Context);
                throw RoomException.Unavailable("this replica is shutting down; reconnect and retry");
            }

            var result = await next(invocationContext);

            // A retry answered from its opId is the write counted when it was applied, not another one.
            if (WriteMethods.Contains(method) && invocationContext.Hub is not RoomHub { AnsweredFromOpId: true })
            {
                metrics.Write(method);
            }

            return result;
        }
        catch (RoomException ex)
        {
            HubLog.Rejected(logger, invocationContext.Context.ConnectionId, method, ex.Code);
            metrics.Error(ex.Code, "hub");
            if (ex.EndsMembership)
            {
                // A removed member whose connection missed the removal event (pub/sub is at most once)
                // is closed here, the first time it calls.
                CloseSoonForGood(invocationContext.Context);
            }

            throw new HubException($"{ex.Code}: {ex.Message}");
        }
        catch (Exception ex) when (ex is not HubException and not OperationCanceledException
            && !invocationContext.Context.ConnectionAborted.IsCancellationRequested)
        {
            // SignalR's own dispatcher log is silenced in appsettings (it reports every client error
            // as an Error); genuine server faults are reported here instead. The client gets a §5 code
            // (a server error is `unavailable`: it may have been applied, so a retried write carries the same
            // opId), never SignalR's generic text, and the error is counted like every other. A call whose
            // connection closed meanwhile (a Join racing its disconnect) is no server fault: nobody hears the answer.
            HubLog.Failed(logger, invocationContext.Context.ConnectionId, method, ex);
            metrics.Error(RoomErrorCodes.Unavailable, "hub");
            var retry = method is "SetChoice" or "AdjustChoice" ? "retry with the same opId" : "retry";
            throw new HubException($"{RoomErrorCodes.Unavailable}: the server failed to complete {method} (it may have been applied); {retry}");
        }
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        if (exception is not null)
        {
            HubLog.ConnectionClosed(logger, context.Context.ConnectionId, exception.Message);
        }

        return next(context, exception);
    }

    private static readonly HashSet<string> WriteMethods = new(StringComparer.Ordinal)
    {
        "SetChoice", "AdjustChoice", "Refresh", "SetRoomState", "RemoveMember",
    };

    /// <summary>Closes the connection, allowing a reconnect, once the error has had a moment to reach the client.</summary>
    private static void CloseSoonAllowingReconnect(HubCallerContext context) =>
        _ = Task.Delay(ErrorHeadStart).ContinueWith(_ => context.CloseAllowingReconnect(), TaskScheduler.Default);

    /// <summary>Closes the connection for good (no reconnect) once the error has had a moment to reach the client.</summary>
    private static void CloseSoonForGood(HubCallerContext context) =>
        _ = Task.Delay(ErrorHeadStart).ContinueWith(_ => context.Abort(), TaskScheduler.Default);

    private CallBudget BudgetOf(HubCallerContext context)
    {
        if (context.Items.TryGetValue(BudgetKey, out var existing) && existing is CallBudget budget)
        {
            return budget;
        }

        budget = new CallBudget(options.Value.Limits.HubCallsPerSecond);
        context.Items[BudgetKey] = budget;
        return budget;
    }
}
