using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A draining replica (DESIGN.md §9) opens no new hub connection: nginx retries a 503 on the next
/// replica (<c>proxy_next_upstream ... http_503</c>), so the client connects there instead. But the
/// long-polling members it still holds live on requests too — every poll, send and the final DELETE is a
/// new one, as is every send of an event-stream member — and they must keep working until the drain
/// closes them in their batch, or they would all fail together at their next poll and lose what that
/// poll was about to carry. So while draining, a request to the hub passes only when it is a GET (a poll),
/// POST (a send) or DELETE of a connection this replica holds (<see cref="HeldConnections"/>), and could
/// not open one: not an upgrade (HTTP/1.1 <c>Upgrade</c>, or HTTP/2's extended CONNECT), not an event
/// stream's GET. Everything else — negotiate, no or an empty <c>id</c>, an id not held here — is refused
/// with a 503 <c>unavailable</c> problem. None of the requests let through can open a connection: SignalR
/// starts one only on negotiate, an upgrade, or the first poll of a negotiated one, and an id is held only
/// once its connection has started. One SignalR has let go of by then answers its 404, which
/// <see cref="HubRefusalProblems"/> turns into the same 503 while draining.
/// </summary>
public static class DrainGate
{
    /// <remarks>
    /// Not async, like RoomShare's other pass-through middleware: it returns the next one's task. A hub
    /// connection's request lasts as long as the connection, and a middleware that awaited the rest of the
    /// pipeline would keep its state machine alive all that time, once per connection
    /// (docs/bench/w0-middleware-frames.md; Hubs/HubConnectionMiddlewareTests keeps it so).
    /// </remarks>
    public static IApplicationBuilder UseDrainGate(this IApplicationBuilder app)
    {
        app.Use((context, next) =>
            !context.Request.Path.StartsWithSegments(HubExtensions.Path)
            || !context.RequestServices.GetRequiredService<ReplicaDrain>().IsDraining
            || ServesHeldConnection(context, context.RequestServices.GetRequiredService<HeldConnections>())
                ? next(context)
                : RefuseAsync(context));
        return app;
    }

    /// <summary>
    /// The problem of a hub request a draining replica does not serve (also SignalR's 404 during a drain). Not counted
    /// in <c>roomshare_errors_total</c> (ProblemWriter.WriteAsync would), as <c>/readyz</c>'s 503s are not: nginx
    /// retries it on another replica, so no client sees it, and every rolling deploy would raise an error alert.
    /// </summary>
    internal static Task RefuseAsync(HttpContext context) =>
        TypedResults.Problem(ProblemWriter.Create(RoomErrorCodes.Unavailable,
            "this replica is shutting down: it opens no new hub connection and holds no connection with this id; connect again (another replica answers)"))
        .ExecuteAsync(context);

    /// <summary>A poll, send or DELETE of a connection held here, which cannot open a new one.</summary>
    internal static bool ServesHeldConnection(HttpContext context, HeldConnections held)
    {
        var request = context.Request;
        return IsTransportEndpoint(context.GetEndpoint())
            && (HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method) || HttpMethods.IsDelete(request.Method))
            && !IsUpgrade(request)
            && !AsksForEventStream(request)
            && HeldConnections.TransportIdOf(request) is { } id
            && held.Holds(id);
    }

    // The hub's connection endpoint, not its negotiate (both carry HubMetadata).
    private static bool IsTransportEndpoint(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<HubMetadata>() is not null && endpoint.Metadata.GetMetadata<NegotiateMetadata>() is null;

    // By the headers, as the server sees them before the endpoint runs (the WebSockets feature decides later,
    // inside it). HTTP/2's extended CONNECT is its method; this gate takes no CONNECT anyway.
    private static bool IsUpgrade(HttpRequest request) =>
        HttpMethods.IsConnect(request.Method)
        || !string.IsNullOrEmpty(request.Headers.Upgrade.ToString())
        || request.Headers.Connection.ToString().Contains("upgrade", StringComparison.OrdinalIgnoreCase);

    // SignalR opens an event stream for a GET that accepts text/event-stream; any mention is refused.
    private static bool AsksForEventStream(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
