namespace RoomShare.Floor;

/// <summary><c>/hubs/room</c>: WebSockets only (clients skip negotiation), the member taken from <c>access_token</c>.</summary>
public static class FloorHub
{
    public static IEndpointRouteBuilder MapFloorHub(this IEndpointRouteBuilder app)
    {
        app.Map("/hubs/room", async (HttpContext context, FloorRooms rooms) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var memberId = FloorToken.MemberOf(context.Request.Query["access_token"]);
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await new FloorConnection(socket, memberId, rooms).RunAsync(context.RequestAborted);
        });
        return app;
    }
}
