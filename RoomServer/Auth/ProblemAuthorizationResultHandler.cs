using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// Answers a failed authentication with 401 <c>unauthorized</c> and a failed authorization with
/// 403 <c>forbidden</c>, as RFC 7807 problems like every other error of the API (DESIGN.md §5).
/// </summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private const string Unauthenticated = "a valid API key (X-Api-Key) or member token is required";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, Unauthenticated);
            return;
        }

        if (authorizeResult.Forbidden && NeedsApiKey(authorizeResult))
        {
            // A valid member token came with an X-Api-Key that is not valid: the key is a bad credential (401).
            if (context.Request.Headers.ContainsKey(ApiKeyAuthentication.HeaderName))
            {
                await ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, Unauthenticated);
                return;
            }

            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden, "this route needs the API key (X-Api-Key); a member token gives no right to it");
            return;
        }

        if (authorizeResult.Forbidden)
        {
            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Forbidden, "these credentials do not give access to this room");
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }

    private static bool NeedsApiKey(PolicyAuthorizationResult result) =>
        result.AuthorizationFailure?.FailedRequirements.OfType<ApiKeyCallerRequirement>().Any() == true;
}
