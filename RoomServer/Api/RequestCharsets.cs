using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// A JSON request body must be UTF-8 (RFC 8259 §8.1): one that names another charset
/// (<c>Content-Type: application/json; charset=iso-8859-1</c>) is refused as 415 <c>invalid_argument</c>
/// before an endpoint reads it. The framework's JSON body reader would otherwise transcode a charset it
/// knows and replace what does not convert (a byte that is not UTF-8, a lone surrogate) without a word —
/// the body silently altered and accepted — and throw for one it does not know, which became a 500
/// <c>unavailable</c>. Only a body sent to an endpoint that reads JSON is checked, so a stray header on
/// a GET, an empty POST, an unknown path (404) or a route that reads no body changes nothing. After authorization, so an unauthenticated caller still hears 401 first.
/// </summary>
public static class RequestCharsets
{
    private const int MaxEchoedLength = 40;

    public static IApplicationBuilder UseKnownRequestCharsets(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (ReadsJsonBody(context) && NotUtf8Charset(context.Request.ContentType) is { } charset)
        {
            var shown = charset.Length <= MaxEchoedLength ? charset : charset[..MaxEchoedLength] + "…";
            await ProblemWriter.WriteAsync(
                context,
                RoomErrorCodes.InvalidArgument,
                $"the request body's charset is '{shown}': JSON bodies must be UTF-8 (Content-Type: application/json)",
                StatusCodes.Status415UnsupportedMediaType);
            return;
        }

        await next(context);
    });

    /// <summary>
    /// Whether the request carries a body to an endpoint that reads it as JSON (a minimal API's body
    /// parameter declares what it accepts): an unknown path, a method the route does not take, an
    /// endpoint that reads no body and the hub keep their own answers.
    /// </summary>
    private static bool ReadsJsonBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
        && context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is { } accepts
        && accepts.ContentTypes.Any(type => type.Contains("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>A JSON Content-Type's charset when it is not UTF-8 as the framework's JSON reader reads it (quotes and all); else null.</summary>
    internal static string? NotUtf8Charset(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
            || media.Charset is not { Length: > 0 } charset)
        {
            return null;
        }

        // charset="utf-8" (quoted) is no UTF-8 to that reader either: it looks the name up as written.
        var name = charset.ToString();
        return name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) ? null : name;
    }
}
