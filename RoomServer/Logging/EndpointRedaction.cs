namespace RoomShare.RoomServer.Logging;

/// <summary>
/// A webhook endpoint's URL as it may be logged: <c>scheme://host[:port]/first-segment</c>. Its user-info is
/// dropped, a query is replaced by <c>?*</c> (receivers often take a credential there, as a token or a key),
/// and a path's later segments by <c>/…</c> (some receivers carry the credential in the path itself, as
/// Slack's <c>/services/T…/B…/secret</c> and Discord's <c>/api/webhooks/id/token</c> do); the fragment is
/// dropped. A URL that does not parse is not echoed.
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

        var path = uri.AbsolutePath;
        var secondSlash = path.IndexOf('/', 1);
        var keptPath = secondSlash < 0 || secondSlash == path.Length - 1 ? path : path[..secondSlash] + "/…";
        var kept = uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) + keptPath;
        return uri.Query.Length > 0 ? kept + "?*" : kept;
    }
}
