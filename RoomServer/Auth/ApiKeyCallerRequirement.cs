using Microsoft.AspNetCore.Authorization;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// The API-key policy's one rule: the caller came with a valid <c>X-Api-Key</c>. The policy authenticates
/// member tokens too, so that a valid member token fails this rule (403 <c>forbidden</c>: authenticated,
/// but with no right to the route) rather than authentication (401 <c>unauthorized</c>), as DESIGN.md §5 has it.
/// <see cref="ProblemAuthorizationResultHandler"/> finds it among the failed requirements to say so.
/// </summary>
public sealed class ApiKeyCallerRequirement : AuthorizationHandler<ApiKeyCallerRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyCallerRequirement requirement)
    {
        if (RoomClaims.IsApiCaller(context.User))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
