using System.Globalization;
using System.Security.Claims;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// A member token's <c>exp</c> (RFC 7519: on or after it the token must not be accepted). The bearer
/// handler checks it once, at connect; a hub connection outlives that, so each call checks it again.
/// </summary>
public static class TokenLifetime
{
    public const string ExpiresAtClaim = "exp";

    /// <summary>The last second a <see cref="DateTimeOffset"/> holds (9999-12-31T23:59:59Z).</summary>
    private static readonly long LatestSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>
    /// How far <c>nbf</c> may lie in the future: a token minted by one replica (nbf = its "now", whole
    /// seconds) may reach another whose clock is a little behind. <c>exp</c> gets no such grace.
    /// </summary>
    public static readonly TimeSpan NotBeforeAllowance = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The bearer handler's lifetime check: an <c>exp</c> is required and is exact (no clock skew: a token
    /// is refused from the second it names on); <c>nbf</c> is honoured with <see cref="NotBeforeAllowance"/>.
    /// </summary>
    public static bool IsWithinLifetime(DateTime? notBefore, DateTime? expires, DateTimeOffset now) =>
        expires is { } exp && now.UtcDateTime < exp.ToUniversalTime()
        && (notBefore is not { } nbf || nbf.ToUniversalTime() <= now.UtcDateTime + NotBeforeAllowance);

    /// <summary>
    /// The token's expiry, or null when it has no readable <c>exp</c>. One past the year 9999 (a token minted elsewhere that
    /// means "never") is the latest time there is, as the bearer handler took it at connect.
    /// </summary>
    public static DateTimeOffset? ExpiresAt(ClaimsPrincipal? user) =>
        long.TryParse(user?.FindFirst(ExpiresAtClaim)?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? seconds > LatestSeconds ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds(Math.Max(seconds, 0))
            : null;

    /// <summary>True once <paramref name="now"/> has reached <c>exp</c>; a token without one counts as expired.</summary>
    public static bool HasExpired(ClaimsPrincipal? user, DateTimeOffset now) => ExpiresAt(user) is not { } expiresAt || now >= expiresAt;
}
