using Microsoft.AspNetCore.Authentication;
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

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            return ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, Unauthenticated);
        }

        // Each scheme's result is already cached, so this has usually finished. Then an admitted request goes on
        // without an async frame of this handler, which a hub connection's request would keep alive as long as
        // the connection (see DrainGate.UseDrainGate).
        var anyFailed = AnyPresentedCredentialFailedAsync(context, policy);
        return anyFailed.IsCompletedSuccessfully && !anyFailed.Result && !authorizeResult.Forbidden
            ? _default.HandleAsync(next, context, policy, authorizeResult)
            : RefuseOrAdmitAsync(next, context, policy, authorizeResult, anyFailed);
    }

    private async Task RefuseOrAdmitAsync(
        RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult, Task<bool> anyFailed)
    {
        // A bad credential is 401 whatever came beside it (DESIGN.md §4): the policy would otherwise stand on the
        // other one alone — a valid member token with a wrong X-Api-Key read its room, a valid key with a forged token wrote.
        if (await anyFailed)
        {
            await ProblemWriter.WriteAsync(context, RoomErrorCodes.Unauthorized, Unauthenticated);
            return;
        }

        if (authorizeResult.Forbidden && NeedsApiKey(authorizeResult))
        {
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

    /// <summary>Whether a scheme of the policy was given a credential and refused it (each handler's result is cached per request).</summary>
    private static async Task<bool> AnyPresentedCredentialFailedAsync(HttpContext context, AuthorizationPolicy policy)
    {
        foreach (var scheme in policy.AuthenticationSchemes)
        {
            if ((await context.AuthenticateAsync(scheme)).Failure is not null)
            {
                return true;
            }
        }

        return false;
    }

    private static bool NeedsApiKey(PolicyAuthorizationResult result) =>
        result.AuthorizationFailure?.FailedRequirements.OfType<ApiKeyCallerRequirement>().Any() == true;
}
