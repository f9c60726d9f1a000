namespace RoomShare.RoomServer.Logging;

/// <summary>
/// A webhook endpoint's URL as it may be logged: <c>scheme://host[:port]/path</c>. Its user-info is dropped
/// and a query is replaced by <c>?*</c> (receivers often take a credential there, as a token or a key), the
/// fragment dropped — the form HttpClientFactory's own logs use. A URL that does not parse is not echoed.
/// </summary>
public static class EndpointRedaction
{
    public const string Unparseable = "[not a URL]";

    public static string Redact(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return Unparseable;
        }

        var kept = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return uri.Query.Length > 0 ? kept + "?*" : kept;
    }
}
