using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

public static class StatusProblems
{
    /// <summary>
    /// A body over Kestrel's limit is refused before any handler runs (the minimal-API body reader
    /// answers a bare 413 and never throws to <see cref="RoomExceptionHandler"/>): give that answer
    /// its §5 problem too, so every API error carries a <c>code</c>.
    /// </summary>
    public static WebApplication UseStatusProblems(this WebApplication app)
    {
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && http.Request.Path.StartsWithSegments("/api"))
            {
                await ProblemWriter.WriteAsync(http, RoomErrorCodes.PayloadTooLarge, "the request body is larger than the API accepts");
            }
        });
        return app;
    }
}
