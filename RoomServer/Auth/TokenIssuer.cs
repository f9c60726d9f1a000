using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Auth;

/// <summary>Mints member tokens: HS256 JWTs scoped to one room (claims of <see cref="RoomClaims"/>).</summary>
public sealed class TokenIssuer(IOptions<RoomServerOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public static SymmetricSecurityKey SigningKey(JwtOptions jwt) => new(Encoding.UTF8.GetBytes(jwt.SigningKey));

    /// <summary>
    /// A token for the member; <paramref name="removalGeneration"/> is the member's current one
    /// (<see cref="Rooms.IRoomStore.RemovalGenerationAsync"/>), so it stays valid until their next removal.
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(string roomId, string memberId, string displayName, string role, long removalGeneration)
    {
        var jwt = options.Value.Jwt;
        // A JWT's times are whole seconds: start from one, so the expiresAt we answer is the token's exp.
        var clock = time.GetUtcNow();
        var now = new DateTimeOffset(clock.Ticks - (clock.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var expiresAt = now.AddMinutes(jwt.TokenLifetimeMinutes);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [RoomClaims.MemberId] = memberId,
                [RoomClaims.RoomId] = roomId,
                [RoomClaims.DisplayName] = displayName,
                [RoomClaims.Role] = role,

                // Orders the token against the member's removals by count, not by time: no replica's
                // clock decides whether a token issued around a removal is in or out.
                [RoomClaims.RemovalGeneration] = removalGeneration,
            },
            SigningCredentials = new SigningCredentials(SigningKey(jwt), SecurityAlgorithms.HmacSha256),

            // The room again, in the JOSE header: the header segment is then the same for every member of
            // the room and differs between rooms, so nginx can route a room's members to one replica by it
            // without decoding the token (DESIGN.md §7), whether or not the client sends the room hint.
            AdditionalHeaderClaims = new Dictionary<string, object> { [RoomClaims.RoomId] = roomId },
        });
        return (token, expiresAt);
    }
}
