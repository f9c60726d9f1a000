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
/// UTF-8 by any of its usual spellings — <c>utf-8</c>, <c>utf8</c>, in any case, quoted or not — is accepted:
/// the charset is taken off the Content-Type before the endpoint reads it, since the framework's reader knows
/// only some of them (a quoted name or <c>utf8</c> would fail there) and JSON without one is UTF-8. A Content-Type
/// with two charsets is refused whatever they name: the framework reads the first, and the second could be anything.
/// </summary>
public static class RequestCharsets
{
    private const int MaxEchoedLength = 40;

    /// <remarks>Not async: see <see cref="Hubs.DrainGate.UseDrainGate"/>.</remarks>
    public static IApplicationBuilder UseKnownRequestCharsets(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (!ReadsJsonBody(context))
        {
            return next(context);
        }

        if (Utf8Alias(context.Request.ContentType) is { } plain)
        {
            context.Request.ContentType = plain;
        }
        else if (RepeatedCharsets(context.Request.ContentType) is { } charsets)
        {
            // The framework reads the first, and a check of the first alone would let a second through to it.
            return ProblemWriter.WriteAsync(
                context,
                RoomErrorCodes.InvalidArgument,
                $"the request body's Content-Type names {charsets} charsets: JSON bodies must be UTF-8, with one charset or none (Content-Type: application/json)",
                StatusCodes.Status415UnsupportedMediaType);
        }
        else if (NotUtf8Charset(context.Request.ContentType) is { } charset)
        {
            var shown = charset.Length <= MaxEchoedLength ? charset : charset[..MaxEchoedLength] + "…";
            return ProblemWriter.WriteAsync(
                context,
                RoomErrorCodes.InvalidArgument,
                shown.Length == 0
                    ? "the request body's Content-Type has a charset parameter that names no charset: JSON bodies must be UTF-8 (Content-Type: application/json)"
                    : $"the request body's charset is '{shown}': JSON bodies must be UTF-8 (Content-Type: application/json)",
                StatusCodes.Status415UnsupportedMediaType);
        }

        return next(context);
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

    /// <summary>How many charset parameters a JSON Content-Type has, when it has more than one; else null.</summary>
    internal static int? RepeatedCharsets(string? contentType) =>
        JsonMediaType(contentType) is { } media
            && media.Parameters.Count(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) is > 1 and var count
            ? count
            : null;

    /// <summary>A JSON Content-Type's charset when it is not UTF-8 by one of its names (<see cref="IsUtf8"/>); else null.</summary>
    internal static string? NotUtf8Charset(string? contentType) =>
        JsonCharset(contentType, out _) is { } name && !IsUtf8(name) ? name : null;

    /// <summary>A JSON Content-Type whose charset names UTF-8, without its charset (what the framework reads as UTF-8); else null.</summary>
    internal static string? Utf8Alias(string? contentType)
    {
        if (RepeatedCharsets(contentType) is not null || JsonCharset(contentType, out var media) is not { } name || !IsUtf8(name))
        {
            return null;
        }

        media!.Charset = null;
        return media.ToString();
    }

    /// <summary><c>utf-8</c> or <c>utf8</c>, any case, quoted or not (RFC 9110 §8.3.2: a charset name is case-insensitive).</summary>
    private static bool IsUtf8(string charset)
    {
        var name = charset.Length >= 2 && charset[0] == '"' && charset[^1] == '"' ? charset[1..^1] : charset;
        return name.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || name.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A JSON Content-Type's charset as written (quotes and all), or null for another type or none. A charset
    /// parameter with no name in it (<c>charset=</c>, or <c>charset</c> alone) is "": it names no UTF-8 either, and
    /// the framework's reader threw on the empty one (a 500).
    /// </summary>
    private static string? JsonCharset(string? contentType, out MediaTypeHeaderValue? media) =>
        (media = JsonMediaType(contentType))?.Parameters.FirstOrDefault(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) is { } charset
            ? charset.Value.Value ?? ""
            : null;

    /// <summary>A JSON Content-Type, parsed; null for another type or one that does not parse.</summary>
    private static MediaTypeHeaderValue? JsonMediaType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
            && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
            ? media
            : null;
}
