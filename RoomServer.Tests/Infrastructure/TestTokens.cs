using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Mints member tokens exactly as DESIGN.md §3 describes them (HS256, key = UTF-8 bytes of the signing
/// key; claims sub, room, name, role, exp), so tests can forge the bad ones the API would never issue:
/// wrong key, expired, another room, wrong issuer or audience.
/// </summary>
public static class TestTokens
{
    public static string Mint(
        string signingKey,
        string roomId,
        string memberId,
        string displayName,
        string role = "member",
        DateTimeOffset? expires = null,
        string issuer = "roomshare",
        string audience = "roomshare",
        long? removalGeneration = null,
        DateTimeOffset? issuedAt = null,
        IReadOnlyDictionary<string, string>? extraClaims = null)
    {
        var now = DateTimeOffset.UtcNow;
        var expiresAt = expires ?? now.AddHours(1);

        // An already-expired token still needs nbf/iat before exp, or the handler refuses to create it.
        var issued = issuedAt ?? (expiresAt <= now ? expiresAt.AddMinutes(-10) : now);
        var claims = new List<Claim>
        {
            new("sub", memberId),
            new("room", roomId),
            new("name", displayName),
            new("role", role),
        };

        // rgen: what the API's tokens carry (DESIGN.md §3); null mints a token without it, as another issuer would.
        if (removalGeneration is { } generation)
        {
            claims.Add(new Claim("rgen", generation.ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        }

        foreach (var (type, value) in extraClaims ?? new Dictionary<string, string>())
        {
            claims.Add(new Claim(type, value));
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issued.UtcDateTime,
            NotBefore = issued.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Subject = new ClaimsIdentity(claims),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
