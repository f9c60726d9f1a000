using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// <c>/healthz</c>: the process is up. <c>/readyz</c>: it can serve rooms — Redis reachable, the
/// backplane hears itself, SignalR's once-subscribed channels made, not draining — and when not, says
/// why in a 503 problem (DESIGN.md §5).
/// </summary>
public static class HealthEndpoints
{
    /// <summary><c>reason</c>: what is degraded while it is ready (a Redis Cluster node down), else null.</summary>
    public sealed record HealthResponse(string Status, string Replica, string? Reason = null);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", (IOptions<RoomServerOptions> options) =>
            TypedResults.Ok(new HealthResponse("ok", options.Value.ReplicaId))).WithTags("Health");
        app.MapGet("/readyz", Ready).WithTags("Health")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Ready(
        IRoomStore store, ReplicaDrain drain, IOptions<RoomServerOptions> options, CancellationToken cancellationToken)
    {
        var replica = options.Value.ReplicaId;
        if (drain.IsDraining)
        {
            return NotReady(replica, "draining", "the replica is draining (shutting down): it takes no new connections");
        }

        var readiness = await store.CheckReadinessAsync(cancellationToken);
        return readiness.IsReady
            ? TypedResults.Ok(new HealthResponse("ready", replica, readiness.Reason))
            : NotReady(replica, "unavailable", readiness.Reason ?? "the store cannot serve rooms now");
    }

    /// <summary>
    /// A 503 <c>unavailable</c> problem whose <c>detail</c> is the reason. The members the body had before it was a
    /// problem stay as extensions for the scripts that read them: <c>replica</c>, <c>reason</c>, and the old string
    /// <c>status</c> as <c>readiness</c> (<c>status</c> is the problem's HTTP status now). Not counted in
    /// <c>roomshare_errors_total</c> (ProblemWriter.WriteAsync would): a probe polling a draining replica is no client's error.
    /// </summary>
    private static ProblemHttpResult NotReady(string replica, string readiness, string reason)
    {
        var problem = ProblemWriter.Create(RoomErrorCodes.Unavailable, reason);
        problem.Extensions["readiness"] = readiness;
        problem.Extensions["replica"] = replica;
        problem.Extensions["reason"] = reason;
        return TypedResults.Problem(problem);
    }
}
