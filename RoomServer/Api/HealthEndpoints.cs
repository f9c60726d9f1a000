using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// <c>/healthz</c>: the process is up. <c>/readyz</c>: it can serve rooms — Redis reachable, the
/// backplane hears itself, not draining — and when not, says why.
/// </summary>
public static class HealthEndpoints
{
    public sealed record HealthResponse(string Status, string Replica, string? Reason = null);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (IOptions<RoomServerOptions> options) =>
            TypedResults.Ok(new HealthResponse("ok", options.Value.ReplicaId))).WithTags("Health");
        app.MapGet("/readyz", Ready).WithTags("Health");
        return app;
    }

    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Ready(
        IRoomStore store, ReplicaDrain drain, IOptions<RoomServerOptions> options, CancellationToken cancellationToken)
    {
        var replica = options.Value.ReplicaId;
        if (drain.IsDraining)
        {
            return TypedResults.Json(new HealthResponse("draining", replica), statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return await store.WhyNotReadyAsync(cancellationToken) is { } reason
            ? TypedResults.Json(new HealthResponse("unavailable", replica, reason), statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(new HealthResponse("ready", replica));
    }
}
