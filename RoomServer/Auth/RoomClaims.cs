using System.Globalization;
using System.Security.Claims;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Auth;

/// <summary>The claims of a member token (DESIGN.md §3) and the roles it may carry.</summary>
public static class RoomClaims
{
    public const string MemberId = "sub";
    public const string RoomId = "room";
    public const string DisplayName = "name";
    public const string Role = "role";

    public const string MemberRole = RoomRoles.Member;
    public const string OwnerRole = RoomRoles.Owner;

    /// <summary>Issued-at, Unix seconds (RFC 7519).</summary>
    public const string IssuedAt = "iat";

    /// <summary>
    /// The member's removal generation when the token was issued (tokens this server issues carry it):
    /// the token is refused once the member has been removed again.
    /// </summary>
    public const string RemovalGeneration = "rgen";

    /// <summary>The role the API-key scheme gives its caller.</summary>
    public const string ApiRole = "api";

    public static bool IsValidRole(string? role) => role is MemberRole or OwnerRole;

    public static string? RoomOf(ClaimsPrincipal user) => user.FindFirst(RoomId)?.Value;

    public static bool IsApiCaller(ClaimsPrincipal user) => user.Identities.Any(i => i.AuthenticationType == ApiKeyAuthentication.SchemeName && i.IsAuthenticated);

    /// <summary>
    /// The token's removal generation: <c>rgen</c>, else 0. A token minted elsewhere without the claim
    /// is generation 0, so it is refused once its member has been removed at all (no clock decides).
    /// </summary>
    public static long RemovalGenerationOf(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirst(RemovalGeneration)?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var generation)
            ? generation
            : 0;
}
