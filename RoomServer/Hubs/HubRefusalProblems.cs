using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Net.Http.Headers;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// SignalR's connection endpoint answers its own refusals in text/plain (or with no content type): a
/// missing or unknown connection id, a transport change or a second stream on one connection, a POST or
/// DELETE its transport does not take, a method the endpoint does not take. The status-code pages leave
/// a response with a content type alone, and <c>HttpConnectionDispatcherOptions</c> has no hook for
/// these answers, so this middleware makes each one the problem DESIGN §5 asks for: the status kept, its
/// code (<see cref="RoomErrorCodes.ForHttpStatus"/>), SignalR's meaning in plain words, and <c>Allow</c>
/// on a 405. Only a response that is a refusal when SignalR first touches its body is held back
/// (<see cref="RefusalCapturingBody"/>); every other one goes straight to the server. Registered after
/// the hub's other middleware, which answers with problems of its own. A negotiate refused for its
/// <c>negotiateVersion</c> is a 200 with an <c>error</c> member, the negotiate protocol the clients read:
/// no HTTP error, so it is left as it is.
/// </summary>
public static class HubRefusalProblems
{
    // SignalR's own words (HttpConnectionDispatcher).
    private const string NoConnectionId = "Connection ID required";
    private const string UnknownConnection = "No Connection with that ID";
    private const string TransportChange = "Cannot change transports mid-connection";
    private const string PostOnWebSocket = "POST requests are not allowed for WebSocket connections.";
    private const string DeleteNotLongPolling = "Cannot terminate this connection using the DELETE endpoint.";

    public static WebApplication UseHubRefusalProblems(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            // The hub's own endpoints only: another path under it (no endpoint) is routing's 404, a problem already.
            if (!context.Request.Path.StartsWithSegments(HubExtensions.Path) || !IsHubEndpoint(context.GetEndpoint()))
            {
                await next(context);
                return;
            }

            var body = new RefusalCapturingBody(context);
            string? refusal;
            try
            {
                await next(context);
            }
            finally
            {
                // Also on an exception, so the exception handler writes its problem to the server.
                refusal = await body.ReleaseAsync();
            }

            // A refusal without a body (405, 409) is still unsent; one with a body was captured.
            if (refusal is null && (context.Response.HasStarted || !IsRefusal(context.Response)))
            {
                return;
            }

            await WriteProblemAsync(context, refusal ?? "");
        });
        return app;
    }

    private static bool IsHubEndpoint(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<HubMetadata>() is not null || endpoint?.Metadata.GetMetadata<NegotiateMetadata>() is not null;

    /// <summary>An error status whose body SignalR writes as text: text/plain, or no content type at all (an upgrade's 404).</summary>
    internal static bool IsRefusal(HttpResponse response) =>
        response.StatusCode >= StatusCodes.Status400BadRequest
        && (string.IsNullOrEmpty(response.ContentType)
            || (MediaTypeHeaderValue.TryParse(response.ContentType, out var type) && type.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)));

    private static async Task WriteProblemAsync(HttpContext context, string refusal)
    {
        var response = context.Response;
        var status = response.StatusCode;
        var negotiate = context.GetEndpoint()?.Metadata.GetMetadata<NegotiateMetadata>() is not null;
        response.ContentType = null;
        response.ContentLength = null;

        // Draining, a connection that ended after the drain gate let its request through is refused like
        // every other id the replica does not hold: a 503, which nginx retries elsewhere (a 404 it would not).
        if (status == StatusCodes.Status404NotFound && context.RequestServices.GetRequiredService<ReplicaDrain>().IsDraining)
        {
            await DrainGate.RefuseAsync(context);
            return;
        }

        if (status == StatusCodes.Status405MethodNotAllowed)
        {
            response.Headers.Allow = negotiate ? "POST" : refusal == PostOnWebSocket ? "GET" : "GET, POST, DELETE";
        }

        await ProblemWriter.WriteAsync(context, RoomErrorCodes.ForHttpStatus(status), Describe(context, status, refusal, negotiate), status);
    }

    // SignalR's meaning said plainly; a text this does not know is passed on as it is.
    private static string Describe(HttpContext context, int status, string refusal, bool negotiate) => refusal switch
    {
        NoConnectionId =>
            "this hub request must name its connection: the connectionToken from negotiate as the 'id' query parameter",
        UnknownConnection =>
            "there is no connection with that id on this replica: it has ended, or it was negotiated on another replica; negotiate again",
        TransportChange =>
            "this connection already uses another transport, and a connection keeps the one it started with; negotiate again to use another",
        PostOnWebSocket =>
            "this connection uses a WebSocket: send its messages on the WebSocket, not with POST",
        DeleteNotLongPolling =>
            "only a long-polling connection is ended with DELETE; close this connection's WebSocket or event stream instead",
        "" when status == StatusCodes.Status405MethodNotAllowed => negotiate
            ? $"{context.Request.Path} takes POST only; see the Allow header"
            : $"{context.Request.Path} takes GET (a WebSocket, an event stream, a poll), POST (a long-polling send) and DELETE (ending a long-polling connection), not {context.Request.Method}",
        "" when status == StatusCodes.Status409Conflict =>
            "this connection already has its WebSocket or event stream open on another request; a connection has one at a time",
        "" when status == StatusCodes.Status404NotFound =>
            "there is no connection with that id on this replica: it has ended; negotiate again",
        "" => $"the hub refused the request (HTTP {status})",
        _ => refusal,
    };
}
