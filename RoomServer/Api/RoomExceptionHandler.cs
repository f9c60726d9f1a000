using Microsoft.AspNetCore.Diagnostics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The HTTP edge of the error vocabulary: a <see cref="RoomException"/> becomes its problem, a body
/// that does not bind (malformed JSON, wrong types) becomes <c>invalid_argument</c>, and a body over
/// the size limit becomes <c>payload_too_large</c>. Anything else is a server fault: logged here (a handled
/// exception is not logged by the framework) and answered 500 <c>unavailable</c> as a problem whatever the
/// request's <c>Accept</c>, so every one is counted in <c>roomshare_errors_total</c> like any other error.
/// </summary>
public sealed class RoomExceptionHandler(ILogger<RoomExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (code, detail, status) = exception switch
        {
            RoomException room => (room.Code, room.Message, room.HttpStatus),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (RoomErrorCodes.PayloadTooLarge, "the request body is too large", null),

            // A body without a Content-Type (or one the reader cannot parse) keeps the framework's 415 (DESIGN §5).
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } bad => (RoomErrorCodes.InvalidArgument, StatusProblems.BindFailure(bad), StatusCodes.Status415UnsupportedMediaType),
            BadHttpRequestException bad => (RoomErrorCodes.InvalidArgument, StatusProblems.BindFailure(bad), null),
            _ => (null, null, null),
        };
        if (code is null)
        {
            ApiLog.RequestFailed(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
            (code, detail, status) = (RoomErrorCodes.Unavailable, "the server failed to complete the request (a write may have been applied); retry — a POST with the same Idempotency-Key", StatusCodes.Status500InternalServerError);
        }

        await ProblemWriter.WriteAsync(httpContext, code, detail!, status);
        return true;
    }
}
