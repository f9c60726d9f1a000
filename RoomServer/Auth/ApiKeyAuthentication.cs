using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// Server-to-server authentication: the <c>X-Api-Key</c> header must equal one of the configured
/// keys (compared in constant time by <see cref="ApiKeyMatcher"/>). Absent header = no result, so another scheme may still apply.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyMatcher keys) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var presented) || presented.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // One header line holds one key. A key with a comma in it, split over two lines, would pass joined here and
        // then be no configured key for the per-key limits (ApiKeyIds): two lines are not a key.
        if (presented.Count != 1 || !keys.Matches(presented.ToString()))
        {
            AuthLog.ApiKeyRejected(Logger, Request.Path);
            return Task.FromResult(AuthenticateResult.Fail("invalid API key"));
        }

        var identity = new ClaimsIdentity([new Claim(RoomClaims.Role, RoomClaims.ApiRole)], SchemeName, null, RoomClaims.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
