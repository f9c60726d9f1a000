using System.Security.Claims;

namespace RoomShare.RoomServer.Auth;

/// <summary>The claims of a member token (DESIGN.md §3) and the roles it may carry.</summary>
public static class RoomClaims
{
    public const string MemberId = "sub";
    public const string RoomId = "room";
    public const string DisplayName = "name";
    public const string Role = "role";

    public const string MemberRole = "member";
    public const string OwnerRole = "owner";

    /// <summary>The role the API-key scheme gives its caller.</summary>
    public const string ApiRole = "api";

    public static bool IsValidRole(string? role) => role is MemberRole or OwnerRole;

    public static string? RoomOf(ClaimsPrincipal user) => user.FindFirst(RoomId)?.Value;

    public static bool IsApiCaller(ClaimsPrincipal user) => user.Identities.Any(i => i.AuthenticationType == ApiKeyAuthentication.SchemeName && i.IsAuthenticated);
}
