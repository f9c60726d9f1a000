using Microsoft.Extensions.Primitives;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The web client's files go out with a strict content policy: the pages load only their own scripts, styles and
/// connections (no inline script or style, no eval — the client uses none), cannot be framed, and leak no address in a
/// Referer. Names, notices and announcements are written as text, never HTML; the policy is the second line should
/// that ever change.
/// </summary>
public static class WebClientHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void Apply(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY"; // frame-ancestors for browsers that predate it
        headers["Referrer-Policy"] = new StringValues("no-referrer");
    }
}
