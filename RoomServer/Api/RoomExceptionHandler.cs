using Microsoft.AspNetCore.Diagnostics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The HTTP edge of the error vocabulary: a <see cref="RoomException"/> becomes its problem, a body
/// that does not bind (malformed JSON, wrong types) becomes <c>invalid_argument</c>, and a body over
/// the size limit becomes <c>payload_too_large</c>.
/// </summary>
public sealed class RoomExceptionHandler : IExceptionHandler
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
            return false;
        }

        await ProblemWriter.WriteAsync(httpContext, code, detail!, status);
        return true;
    }
}
