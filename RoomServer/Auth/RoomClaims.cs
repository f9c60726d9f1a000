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

    /// <summary>Issued-at, Unix milliseconds: tokens this server issues carry it beside <c>iat</c>.</summary>
    public const string IssuedAtMilliseconds = "iat_ms";

    /// <summary>The role the API-key scheme gives its caller.</summary>
    public const string ApiRole = "api";

    public static bool IsValidRole(string? role) => role is MemberRole or OwnerRole;

    public static string? RoomOf(ClaimsPrincipal user) => user.FindFirst(RoomId)?.Value;

    public static bool IsApiCaller(ClaimsPrincipal user) => user.Identities.Any(i => i.AuthenticationType == ApiKeyAuthentication.SchemeName && i.IsAuthenticated);

    /// <summary>
    /// The token's issue time in Unix milliseconds: <c>iat_ms</c>, else <c>iat</c> × 1000 (a token
    /// minted elsewhere), else 0. Milliseconds let a token issued right after a removal re-admit the member.
    /// </summary>
    public static long IssuedAtMs(ClaimsPrincipal user)
    {
        if (long.TryParse(user.FindFirst(IssuedAtMilliseconds)?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }

        return long.TryParse(user.FindFirst(IssuedAt)?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? seconds * 1000
            : 0;
    }
}
