using Microsoft.AspNetCore.Http.HttpResults;
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
        rooms.MapPost("/", CreateRoom).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        rooms.MapPost("/{roomId}/tokens", IssueToken).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        rooms.MapGet("/{roomId}", GetRoom).RequireAuthorization(AuthPolicies.RoomReader)
            .ProducesProblem(StatusCodes.Status404NotFound);
        rooms.MapPost("/{roomId}/notices", PublishNotice).RequireAuthorization(AuthPolicies.ApiKey)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
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
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Created<RoomCreatedResponse>> CreateRoom(
        CreateRoomRequest request, RoomCreator creator, ApiKeyIds keys, HttpContext http, CancellationToken cancellationToken)
    {
        var created = await creator.CreateAsync(request, keys.Require(http), cancellationToken);
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
        string roomId, NoticeRequest request, IRoomStore store, IOptions<RoomServerOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        RoomIds.RequireRoomId(roomId);
        var (kind, payload) = RoomRequests.ValidateNotice(request, options.Value);
        return TypedResults.Accepted((string?)null, await store.PublishNoticeAsync(new NoticePublication(roomId, kind, payload, time.Stamp()), cancellationToken));
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

    /// <summary>Sent through SignalR's own backplane, so it reaches every client on every replica.</summary>
    private static async Task<Accepted<AnnouncementAck>> Announce(
        AnnouncementRequest request, IHubContext<RoomHub, IRoomClient> hub, IOptions<RoomServerOptions> options, TimeProvider time)
    {
        var (kind, message) = RoomRequests.ValidateAnnouncement(request, options.Value);
        var announcement = new Announcement(Guid.NewGuid().ToString("N"), kind, message, time.Stamp());
        try
        {
            await hub.Clients.All.Announcement(announcement);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Not "nothing was sent": a publish that timed out may be in Redis's hands already, and is delivered
            // when it answers again — a retry then shows every client the announcement twice.
            throw RoomException.Unavailable("the backplane did not confirm the announcement in time; it may still reach clients — a retry may show it twice", ex);
        }

        return TypedResults.Accepted((string?)null, new AnnouncementAck(announcement.Id));
    }

    /// <summary>The room leaves the deleting key's count at once (another key's count drops when it next prunes).</summary>
    private static async Task<NoContent> DeleteRoom(
        string roomId, IRoomStore store, RoomCreator rooms, ApiKeyIds keys, HttpContext http, TimeProvider time, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(new RoomDeletion(RoomIds.RequireRoomId(roomId), time.Stamp()), cancellationToken);
        await rooms.ForgetDeletedAsync(keys.Require(http), roomId);
        return TypedResults.NoContent();
    }
}
