using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using Microsoft.AspNetCore.SignalR;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The server-to-server HTTP API (DESIGN.md §4). Errors are thrown as <see cref="RoomException"/>
/// and written as problems by <see cref="RoomExceptionHandler"/>; handlers return only success.
/// </summary>
public static class RoomsApi
{
    // An announcement's Idempotency-Key record: its id, before it is sent and once it was.
    private const string Pending = "pending ";
    private const string Sent = "sent ";

    public static IEndpointRouteBuilder MapRoomsApi(this IEndpointRouteBuilder app)
    {
        var rooms = app.MapGroup("/api/rooms")
            .WithTags("Rooms")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)

            // Every route: a member token where the API key is needed, or one for another room.
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        // Every route that reads a body may meet Kestrel's body limit (ApiExtensions): 413.
        // RoomServer.Tests/Api/OpenApiErrorResponsesTests holds each route's §5 codes.
        // 422: an Idempotency-Key reused with another request (IdempotencyKeys).
        rooms.MapPost("/", CreateRoom).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        rooms.MapPost("/{roomId}/tokens", IssueToken).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        rooms.MapGet("/{roomId}", GetRoom).RequireAuthorization(AuthPolicies.RoomReader)
            .ProducesProblem(StatusCodes.Status404NotFound);
        rooms.MapPost("/{roomId}/notices", PublishNotice).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        rooms.MapPut("/{roomId}/state", SetState).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        rooms.MapDelete("/{roomId}", DeleteRoom).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound);
        rooms.MapDelete("/{roomId}/members/{memberId}", RemoveMember).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        app.MapPost("/api/announcements", Announce).RequireAuthorization(AuthPolicies.ApiKey)
            .WithTags("Announcements")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Created<RoomCreatedResponse>> CreateRoom(
        CreateRoomRequest request,
        [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey,
        RoomCreator creator,
        ApiKeyIds keys,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var created = await creator.CreateAsync(request, keys.Require(http), IdempotencyKeys.Validate(idempotencyKey), cancellationToken);
        return TypedResults.Created($"/api/rooms/{created.RoomId}", created);
    }

    private static async Task<Ok<TokenResponse>> IssueToken(
        string roomId, TokenRequest request, IRoomStore store, TokenIssuer issuer, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var (memberId, displayName, role) = RoomRequests.ValidateToken(request);
        if (!await store.ExistsAsync(roomId, cancellationToken))
        {
            throw RoomException.NotFound(roomId);
        }

        // Read from the store, not a clock: the token outlives every removal of the member so far.
        var generation = await store.RemovalGenerationAsync(roomId, memberId, cancellationToken);
        var (token, expiresAt) = issuer.Issue(roomId, memberId, displayName, role, generation);
        return TypedResults.Ok(new TokenResponse(token, expiresAt));
    }

    private static async Task<Ok<RoomSnapshot>> GetRoom(string roomId, IRoomStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.GetSnapshotAsync(RoomIds.RequireRoomId(roomId), cancellationToken));

    private static async Task<Accepted<VersionAck>> PublishNotice(
        string roomId,
        NoticeRequest request,
        [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey,
        IRoomStore store,
        ApiKeyIds keys,
        HttpContext http,
        IOptions<RoomServerOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var validKey = IdempotencyKeys.Validate(idempotencyKey);
        var (kind, payload) = RoomRequests.ValidateNotice(request, options.Value);
        var key = IdempotencyKeys.For(validKey, keys.Require(http), [kind, payload.GetRawText()]);
        return TypedResults.Accepted((string?)null, await store.PublishNoticeAsync(new NoticePublication(roomId, kind, payload, time.Stamp(), key), cancellationToken));
    }

    private static async Task<Ok<VersionAck>> SetState(
        string roomId, StateRequest request, IRoomStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var state = RoomRequests.ValidateState(request);
        return TypedResults.Ok(await store.SetStateAsync(new StateChange(roomId, state, RoomClaims.ApiRole, time.Stamp()), cancellationToken));
    }

    private static async Task<Ok<VersionAck>> RemoveMember(string roomId, string memberId, MemberRemover remover, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        RoomIds.RequireMemberId(memberId);
        return TypedResults.Ok(await remover.RemoveAsync(roomId, memberId, RoomClaims.ApiRole, cancellationToken));
    }

    /// <summary>
    /// Sent through SignalR's own backplane, so it reaches every client on every replica. With an
    /// Idempotency-Key, its id is recorded (as pending) before it is sent and marked sent after: a retry of a
    /// sent one answers its id and sends nothing; one whose first send was not confirmed is sent again with
    /// the same id (at least once — a client may see that id twice, never two announcements).
    /// </summary>
    private static async Task<Accepted<AnnouncementAck>> Announce(
        AnnouncementRequest request,
        [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey,
        IHubContext<RoomHub, IRoomClient> hub,
        IIdempotencyRecords records,
        ApiKeyIds keys,
        HttpContext http,
        IOptions<RoomServerOptions> options,
        TimeProvider time,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var validKey = IdempotencyKeys.Validate(idempotencyKey);
        var (kind, message) = RoomRequests.ValidateAnnouncement(request, options.Value);
        var id = Guid.NewGuid().ToString("N");
        var key = IdempotencyKeys.For(validKey, keys.Require(http), [kind, message]);
        if (key is not null)
        {
            var recorded = (await records.ClaimAsync(IdempotencyScope.Announcements, key, Pending + id, null, cancellationToken)).ValueFor(key);
            if (recorded.StartsWith(Sent, StringComparison.Ordinal))
            {
                return TypedResults.Accepted((string?)null, new AnnouncementAck(recorded[Sent.Length..]));
            }

            id = recorded[Pending.Length..];
        }

        var announcement = new Announcement(id, kind, message, time.Stamp());
        try
        {
            await hub.Clients.All.Announcement(announcement);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Not "nothing was sent": a publish that timed out may be in Redis's hands already, and is delivered
            // when it answers again — a retry then shows every client the announcement twice (with an
            // Idempotency-Key, twice with one id).
            throw RoomException.Unavailable("the backplane did not confirm the announcement in time; it may still reach clients — a retry may show it twice", ex);
        }

        if (key is not null)
        {
            await MarkSentAsync(records, key, id, loggers.CreateLogger(typeof(RoomsApi)), cancellationToken);
        }

        return TypedResults.Accepted((string?)null, new AnnouncementAck(announcement.Id));
    }

    /// <summary>Best effort: the announcement went out and is answered 202; unmarked, a retry would send it again, with its id.</summary>
    private static async Task MarkSentAsync(IIdempotencyRecords records, IdempotencyKey key, string id, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await records.ClaimAsync(IdempotencyScope.Announcements, key, Sent + id, Pending + id, cancellationToken);
        }
        catch (RoomException ex)
        {
            ApiLog.AnnouncementNotMarkedSent(logger, id, ex.Message);
        }
    }

    /// <summary>The room leaves the deleting key's count at once, also on a 404 (RoomDeleter); another key's count drops when it next prunes.</summary>
    private static async Task<NoContent> DeleteRoom(
        string roomId, RoomDeleter deleter, ApiKeyIds keys, HttpContext http, CancellationToken cancellationToken)
    {
        await deleter.DeleteAsync(keys.Require(http), roomId, cancellationToken);
        return TypedResults.NoContent();
    }
}
