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

    /// <summary>
    /// The claims RoomShare reads from a member token (<see cref="TokenLifetime.ExpiresAtClaim"/> too:
    /// the hub re-checks <c>exp</c> on every call). <see cref="Retained"/> keeps these and no others.
    /// </summary>
    private static readonly string[] ReadClaims = [MemberId, RoomId, DisplayName, Role, RemovalGeneration, TokenLifetime.ExpiresAtClaim];

    /// <summary>
    /// What a validated member token leaves behind for the life of its request — for the hub, of its
    /// connection: one identity with the claims RoomShare reads, nothing else. The bearer handler's own
    /// identity keeps the parsed token and a second copy of every claim, several KB per idle
    /// connection (docs/bench/w0-lean-principal.md). Authentication type, name and role claim types
    /// are the validated identity's, so <c>IsAuthenticated</c>, <c>Identity.Name</c> and roles mean
    /// what they meant.
    /// </summary>
    public static ClaimsPrincipal Retained(ClaimsPrincipal validated)
    {
        var source = validated.Identity as ClaimsIdentity;
        var kept = new List<Claim>(ReadClaims.Length);
        foreach (var type in ReadClaims)
        {
            if (validated.FindFirst(type) is { } claim)
            {
                kept.Add(new Claim(type, claim.Value, claim.ValueType, claim.Issuer));
            }
        }

        return new ClaimsPrincipal(new ClaimsIdentity(
            kept,
            source?.AuthenticationType,
            source?.NameClaimType ?? DisplayName,
            source?.RoleClaimType ?? Role));
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
