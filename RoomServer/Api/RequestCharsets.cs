using System.Text;
using Microsoft.Net.Http.Headers;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// A request body in a charset this runtime does not know (<c>Content-Type: application/json; charset=bogus</c>)
/// is refused as 415 <c>invalid_argument</c> before an endpoint reads it. The framework's JSON body reader
/// throws an <see cref="InvalidOperationException"/> for it, which no binding step catches, so it became a
/// 500 <c>unavailable</c> — telling the caller to retry a request that can never succeed. After
/// authorization, so an unauthenticated caller still hears 401 first.
/// </summary>
public static class RequestCharsets
{
    private const int MaxEchoedLength = 40;

    public static IApplicationBuilder UseKnownRequestCharsets(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (UnknownCharset(context.Request.ContentType) is { } charset)
        {
            var shown = charset.Length <= MaxEchoedLength ? charset : charset[..MaxEchoedLength] + "…";
            await ProblemWriter.WriteAsync(
                context,
                RoomErrorCodes.InvalidArgument,
                $"the request body's charset '{shown}' is not one this server knows: send UTF-8 (Content-Type: application/json)",
                StatusCodes.Status415UnsupportedMediaType);
            return;
        }

        await next(context);
    });

    /// <summary>The Content-Type's charset when it names no encoding (as the framework's JSON reader resolves it); else null.</summary>
    internal static string? UnknownCharset(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.Charset is not { Length: > 0 } charset)
        {
            return null;
        }

        // As the framework's JSON reader looks it up: quotes and all (charset="utf-8" names no encoding there either).
        var name = charset.ToString();
        if (name.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            Encoding.GetEncoding(name);
            return null;
        }
        catch (ArgumentException)
        {
            return name;
        }
    }
}
