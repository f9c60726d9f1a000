using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using static RoomShare.RoomServer.Rooms.RoomErrorCodes;

namespace RoomShare.RoomServer.Tests.Api;

/// <summary>
/// The error responses each route lists by hand (<c>.ProducesProblem</c> in Api/RoomsApi.cs) are
/// exactly the statuses of the §5 codes it can return, read from the running server's
/// <c>/openapi/v1.json</c>. A new route fails here until it has a row below.
/// </summary>
public sealed class OpenApiErrorResponsesTests(EmbeddedContractServer server) : IClassFixture<EmbeddedContractServer>
{
    /// <summary>
    /// The §5 codes each route can return. Every route: <c>invalid_argument</c> (a bad id or body),
    /// <c>unauthorized</c> (no valid credentials), <c>forbidden</c> (a member token on a route that needs the
    /// API key, or one for another room), <c>rate_limited</c> (the HTTP rate limits, Api/ApiRateLimiting;
    /// creating a room also past the key's live rooms), <c>unavailable</c> (the store or backplane past its
    /// deadline). Every route that reads a body: <c>payload_too_large</c> (Kestrel's body limit,
    /// Api/ApiExtensions; notices and announcements also have their own limits).
    /// </summary>
    private static readonly Dictionary<string, string[]> CodesByRoute = new(StringComparer.Ordinal)
    {
        ["POST /api/rooms"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, PayloadTooLarge],
        ["POST /api/rooms/{roomId}/tokens"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, PayloadTooLarge, RoomNotFound],

        // forbidden here: a member token for another room (API key or that room's token).
        ["GET /api/rooms/{roomId}"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, RoomNotFound],

        // room_closed: closed is final and read only (a locked room still takes notices).
        ["POST /api/rooms/{roomId}/notices"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, PayloadTooLarge, RoomNotFound, RoomClosed],

        // room_closed: closed is final; any other refused transition is invalid_argument.
        ["PUT /api/rooms/{roomId}/state"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, PayloadTooLarge, RoomNotFound, RoomClosed],
        ["DELETE /api/rooms/{roomId}"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, RoomNotFound],

        // invalid_argument also for a member the room never had, or its owner; room_locked/room_closed: the order was handed off.
        ["DELETE /api/rooms/{roomId}/members/{memberId}"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, RoomNotFound, RoomLocked, RoomClosed],
        ["POST /api/announcements"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, PayloadTooLarge],

        // The audit trail: invalid_argument also for a bad from or limit; forbidden like GET /api/rooms/{roomId}.
        ["GET /api/rooms/{roomId}/events"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, RoomNotFound],

        // Order hand-off (#12). room_not_found: neither a room nor order records by that id.
        ["GET /api/rooms/{roomId}/order"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable, RoomNotFound],
        // invalid_argument: a malformed after, or a limit out of range.
        ["GET /api/deadletters"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable],

        // invalid_argument: a malformed id, or no dead letter by that id (already retried).
        ["POST /api/deadletters/{id}/retry"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable],
        // invalid_argument: a malformed id, or no dead letter by that id (already retried or deleted), as retry answers it.
        ["DELETE /api/deadletters/{id}"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable],
        // invalid_argument: a malformed after.
        ["POST /api/deadletters/retry"] = [InvalidArgument, Unauthorized, Forbidden, RateLimited, Unavailable],
    };

    /// <summary>
    /// Statuses a route answers besides its codes' own: 422 <c>invalid_argument</c>, an <c>Idempotency-Key</c>
    /// reused with a different request (Api/IdempotencyKeys).
    /// </summary>
    private static readonly Dictionary<string, int[]> OtherStatusesByRoute = new(StringComparer.Ordinal)
    {
        ["POST /api/rooms"] = [422],
        ["POST /api/rooms/{roomId}/notices"] = [422],
        ["POST /api/announcements"] = [422],
    };

    [Fact]
    public async Task EveryApiRouteDocumentsExactlyTheProblemStatusesOfTheCodesItCanReturn()
    {
        var document = await server.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var documented = DocumentedErrorStatuses(document).Where(r => r.Route.Contains(" /api/", StringComparison.Ordinal));
        var expected = CodesByRoute.Select(r => (r.Key, r.Value.Select(HttpStatus).Concat(OtherStatusesByRoute.GetValueOrDefault(r.Key) ?? []).Distinct()));

        Lines(documented).Should().Equal(Lines(expected), "each route's .ProducesProblem(...) list matches its §5 codes");
    }

    /// <summary>Every operation of the document, as "METHOD path", with its response statuses of 400 and above.</summary>
    private static IEnumerable<(string Route, IEnumerable<int> Statuses)> DocumentedErrorStatuses(JsonElement document) =>
        from path in document.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        select (
            $"{operation.Name.ToUpperInvariant()} {path.Name}",
            operation.Value.GetProperty("responses").EnumerateObject()
                .Select(r => int.Parse(r.Name, CultureInfo.InvariantCulture))
                .Where(status => status >= 400));

    /// <summary>One line per route, in order: "PUT /api/rooms/{roomId}/state: 400 401 404 409 413 503".</summary>
    private static List<string> Lines(IEnumerable<(string Route, IEnumerable<int> Statuses)> routes) =>
        routes.Select(r => $"{r.Route}: {string.Join(' ', r.Statuses.Order())}").Order(StringComparer.Ordinal).ToList();
}
