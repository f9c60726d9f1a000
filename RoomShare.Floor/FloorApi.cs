namespace RoomShare.Floor;

/// <summary>
/// Just enough of RoomShare's HTTP API (DESIGN.md §4) for the load clients: create a room, issue a
/// member token, and the health probes cluster.sh and nginx use. No API key check: the floor measures
/// the fan-out, not the API.
/// </summary>
public static class FloorApi
{
    public sealed record CreateRoomRequest(string? Name);

    public sealed record CreatedRoom(string RoomId, string Epoch);

    public sealed record TokenRequest(string MemberId, string? DisplayName, string? Role);

    public sealed record IssuedToken(string Token, string ExpiresAt);

    public static IEndpointRouteBuilder MapFloorApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/readyz", () => TypedResults.Ok(new { status = "ready" }));
        app.MapPost("/api/rooms", (CreateRoomRequest request, FloorRooms rooms) =>
        {
            var room = rooms.Create();
            return TypedResults.Created($"/api/rooms/{room.RoomId}", new CreatedRoom(room.RoomId, room.Epoch));
        });
        app.MapPost("/api/rooms/{roomId}/tokens", (string roomId, TokenRequest request, FloorRooms rooms) =>
            rooms.Find(roomId) is null
                ? Results.NotFound()
                : Results.Ok(new IssuedToken(FloorToken.Issue(roomId, request.MemberId), DateTimeOffset.UtcNow.AddHours(12).ToString("O"))));
        return app;
    }
}
