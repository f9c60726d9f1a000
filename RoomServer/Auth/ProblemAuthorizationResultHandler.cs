using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// Answers a failed authentication with 401 <c>unauthorized</c> and a failed authorization with
/// 403 <c>forbidden</c>, as RFC 7807 problems like every other error of the API.
/// </summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, "a valid API key (X-Api-Key) or member token is required");
            return;
        }

        if (authorizeResult.Forbidden)
        {
            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden, "these credentials do not give access to this room");
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
