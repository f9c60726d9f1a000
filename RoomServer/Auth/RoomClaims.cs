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

    /// <summary>
    /// The member's removal generation when the token was issued (tokens this server issues carry it):
    /// the token is refused once the member has been removed again.
    /// </summary>
    public const string RemovalGeneration = "rgen";

    /// <summary>The role the API-key scheme gives its caller.</summary>
    public const string ApiRole = "api";

    public static bool IsValidRole(string? role) => role is MemberRole or OwnerRole;

    // The claims RoomShare reads from a member token (exp too: the hub re-checks it on every call).
    private static readonly string[] KeptTypes = [MemberId, RoomId, DisplayName, Role, RemovalGeneration, TokenLifetime.ExpiresAtClaim];

    /// <summary>
    /// The first claim RoomShare reads that the validated token carries more than once (the handler makes a claim of
    /// each value of a JSON array), or null. Such a token is malformed (DESIGN.md §4) and refused, not read by its first
    /// value: <c>"role":["member","owner"]</c> would otherwise pass for an owner's.
    /// </summary>
    public static string? RepeatedClaim(ClaimsPrincipal validated) =>
        Array.Find(KeptTypes, type => validated.FindAll(type).Skip(1).Any());

    /// <summary>
    /// What a validated member token leaves behind for the life of its request (for the hub: of its
    /// connection): one plain identity with the first value of each claim RoomShare reads, found
    /// case-sensitively as the bearer handler's identity finds them, and nothing else — not the parsed
    /// token and the second copy of every claim that identity keeps (docs/bench/w0-lean-principal.md).
    /// Authentication type, name and role claim types are the validated identity's.
    /// </summary>
    public static ClaimsPrincipal Retained(ClaimsPrincipal validated)
    {
        var source = validated.Identity as ClaimsIdentity;
        var identity = new ClaimsIdentity(source?.AuthenticationType, source?.NameClaimType ?? DisplayName, source?.RoleClaimType ?? Role);
        foreach (var type in KeptTypes)
        {
            if (validated.FindFirst(type) is { } claim)
            {
                // Created with its subject, so AddClaim keeps it instead of cloning it.
                identity.AddClaim(new Claim(type, claim.Value, claim.ValueType, claim.Issuer, claim.OriginalIssuer, identity));
            }
        }

        return new ClaimsPrincipal(identity);
    }

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
