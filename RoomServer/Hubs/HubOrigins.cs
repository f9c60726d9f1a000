namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// The hub's Origin allow-list (<c>RoomServer__AllowedOrigins__0</c>, ...). A browser always sends
/// <c>Origin</c> on a WebSocket upgrade and a cross-origin fetch, and WebSockets have no CORS: without
/// this check any web page could open the hub with a token it got hold of. A request whose Origin is
/// not allowed gets 403 <c>forbidden</c> before authentication runs. Requests without Origin (native
/// apps, servers, the load tool) pass: they are not browsers, and a browser cannot omit it.
/// With no list configured, only the same origin is allowed — the web client served by this host —
/// compared by host name alone, because a proxy in front (nginx: <c>Host $host</c>) drops the port,
/// and one terminating TLS changes the scheme.
/// </summary>
public sealed class HubOrigins
{
    public const string AnyOrigin = "*";

    private readonly HashSet<string> _allowed;
    private readonly bool _any;

    public HubOrigins(IEnumerable<string> allowed)
    {
        var entries = allowed.Select(a => a.Trim()).ToList();
        _any = entries.Contains(AnyOrigin);
        _allowed = new HashSet<string>(entries.Where(e => e != AnyOrigin).Select(e => Normalize(e) ?? e), StringComparer.Ordinal);
    }

    /// <summary>Whether a page on this origin may call the hub across origins (CORS): only a listed one, or any with <c>*</c>.</summary>
    public bool IsListed(string origin) => _any || (Normalize(origin) is { } normalized && _allowed.Contains(normalized));

    /// <summary>Whether a request with this Origin header (null = none sent) and Host may use the hub.</summary>
    public bool Allows(string? origin, string requestHost)
    {
        if (origin is null)
        {
            return true;
        }

        if (_any || _allowed.Count > 0)
        {
            return IsListed(origin);
        }

        // Same origin: "null" (a sandboxed or file:// page) and anything unparseable are never it.
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.IdnHost, HostName(requestHost).Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>scheme://host[:port]</c> in lower case with the default port dropped; null when it is not an http(s) origin.</summary>
    public static string? Normalize(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.PathAndQuery != "/" || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return null;
        }

        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.IdnHost}" : $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}";
    }

    private static string HostName(string host)
    {
        // "[::1]:8080" → "[::1]" (Uri.IdnHost has no brackets: the caller trims them); "example.com:8080" → "example.com".
        var colon = host.LastIndexOf(':');
        return colon > host.LastIndexOf(']') ? host[..colon] : host;
    }
}
