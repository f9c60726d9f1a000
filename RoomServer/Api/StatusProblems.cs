using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// Every error the app answers is an RFC 7807 problem with a §5 <c>code</c>, the framework's own too.
/// Routing (404 unknown path, 405 wrong method), the minimal-API body reader (415 wrong content type,
/// 413 over Kestrel's limit) and authentication challenges answer with a bare status;
/// the status-code-pages middleware gives each of those empty answers its problem, keeping the
/// status (<see cref="RoomErrorCodes.ForHttpStatus"/>). Problems written through the problem-details
/// service without a code (one the framework writes itself; RoomExceptionHandler answers every exception with its code) get theirs in <see cref="AddCodeToProblems"/>,
/// and are counted in <c>roomshare_errors_total</c> there.
/// </summary>
public static partial class StatusProblems
{
    public static WebApplicationBuilder AddCodeToProblems(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            if (!problem.Extensions.ContainsKey("code"))
            {
                var code = RoomErrorCodes.ForHttpStatus(problem.Status ?? context.HttpContext.Response.StatusCode);
                problem.Extensions["code"] = code;
                problem.Type = ProblemWriter.TypeOf(code);

                // A problem the framework wrote without a code: counted here, as ProblemWriter counts its own.
                context.HttpContext.RequestServices.GetService<RoomMetrics>()?.Error(code, "http");
            }
        });
        return builder;
    }

    public static WebApplication UseStatusProblems(this WebApplication app)
    {
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            await ProblemWriter.WriteAsync(http, RoomErrorCodes.ForHttpStatus(status), DetailFor(http, status), status);
        });
        return app;
    }

    private static string DetailFor(HttpContext http, int status) => status switch
    {
        StatusCodes.Status404NotFound => $"there is nothing at {http.Request.Method} {http.Request.Path}",
        StatusCodes.Status405MethodNotAllowed => $"{http.Request.Path} does not take {http.Request.Method}; see the Allow header",
        StatusCodes.Status408RequestTimeout => "the request body stopped arriving before it was complete",
        StatusCodes.Status413PayloadTooLarge => "the request body is larger than the API accepts",
        StatusCodes.Status415UnsupportedMediaType => "the request body must be JSON (Content-Type: application/json)",
        StatusCodes.Status401Unauthorized => "a valid API key (X-Api-Key) or member token is required",
        StatusCodes.Status403Forbidden => "these credentials do not give access to this resource",
        StatusCodes.Status503ServiceUnavailable => "this replica cannot serve the request now; retry",
        _ => http.Features.Get<IHttpResponseFeature>()?.ReasonPhrase ?? $"HTTP {status}",
    };

    /// <summary>What a request that failed to bind says: where the JSON went wrong, or which parameter — never a type name.</summary>
    public static string BindFailure(BadHttpRequestException bad) => bad.InnerException switch
    {
        JsonException json => $"the request body is not valid JSON for this request (at {json.Path ?? "$"}, line {json.LineNumber}, byte {json.BytePositionInLine})",
        _ when bad.StatusCode == StatusCodes.Status415UnsupportedMediaType => "the request body must be JSON (Content-Type: application/json)",
        _ when ParameterBindFailure().Match(bad.Message) is { Success: true } failed =>
            $"'{failed.Groups["name"].Value}' must be a single value of the right kind, not \"{failed.Groups["value"].Value}\"",
        _ when MissingParameter().Match(bad.Message) is { Success: true } missing => missing.Groups["source"].Value.Contains("body", StringComparison.Ordinal)
            ? "the request needs a JSON body"
            : $"'{missing.Groups["name"].Value}' is required",
        _ when bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase) => "the request needs a JSON body",
        _ => "the request could not be read",
    };

    // The framework's wordings: Failed to bind parameter "Nullable<long> from" from "1,2".
    // and: Required parameter "string name" was not provided from query string.
    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?:.* )?(?<name>[A-Za-z0-9_]+)\" from \"(?<value>.{0,100}?)\"\\.$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ParameterBindFailure();

    [System.Text.RegularExpressions.GeneratedRegex("^Required parameter \"(?:.* )?(?<name>[A-Za-z0-9_]+)\" was not provided from (?<source>[a-z ]+)", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex MissingParameter();
}
