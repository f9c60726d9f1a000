using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// A short stable id per configured API key (the first 16 hex digits of its SHA-256), so per-key limits
/// (the HTTP rate limiter's partition, the live rooms per key) can name a key without holding it: the
/// id goes into a Redis key and a limiter partition, the key itself never does. Whether a request
/// carries a valid key is decided by digest lookup, so the presented key is never compared as text
/// here (authentication itself compares in constant time).
/// </summary>
public sealed class ApiKeyIds
{
    private readonly Dictionary<string, string> _idByDigest;

    public ApiKeyIds(IOptions<RoomServerOptions> options) =>
        _idByDigest = options.Value.ApiKeys.Distinct(StringComparer.Ordinal).ToDictionary(Digest, key => Digest(key)[..16], StringComparer.Ordinal);

    /// <summary>The id of the request's <c>X-Api-Key</c> when it is a configured key; otherwise null.</summary>
    public string? Of(HttpContext context) =>
        context.Request.Headers.TryGetValue(ApiKeyAuthentication.HeaderName, out var presented) && presented.Count == 1
            && _idByDigest.TryGetValue(Digest(presented.ToString()), out var id)
            ? id
            : null;

    /// <summary>The id of a request that passed the API-key policy (so it has one).</summary>
    public string Require(HttpContext context) =>
        Of(context) ?? throw new InvalidOperationException("the route requires the API-key policy");

    private static string Digest(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
