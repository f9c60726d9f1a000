using Microsoft.AspNetCore.Http.HttpResults;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The room's audit trail (DESIGN.md §4, §8): <c>GET /api/rooms/{roomId}/events?from=&amp;limit=</c>,
/// every event the room sent, oldest first, paged by version. Readable with the API key or with a
/// member token for that room (the web client's activity view loads older activity with it): it
/// holds nothing a member of the room has not been sent already.
/// </summary>
public static class AuditApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        // RoomServer.Tests/Api/OpenApiErrorResponsesTests holds this route's §5 codes.
        app.MapGet("/api/rooms/{roomId}/events", ReadEvents)
            .RequireAuthorization(AuthPolicies.RoomReader)
            .WithTags("Rooms")
            .WithSummary("The room's audit trail: its events of version ≥ from, oldest first, at most limit; next = the from of the next page, or null")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    // A from or limit that is not an integer fails binding: invalid_argument too (RoomExceptionHandler).
    private static async Task<Ok<EventPage>> ReadEvents(string roomId, long? from, int? limit, IRoomStore store, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var first = from ?? 1;
        if (first < 1)
        {
            throw RoomException.Invalid("from must be a version of at least 1");
        }

        var count = limit ?? DefaultLimit;
        if (count is < 1 or > MaxLimit)
        {
            throw RoomException.Invalid($"limit must be from 1 to {MaxLimit}");
        }

        return TypedResults.Ok(await store.ReadEventsAsync(roomId, first, count, cancellationToken));
    }
}
