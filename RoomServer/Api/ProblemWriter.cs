using Microsoft.AspNetCore.Mvc;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>Writes an RFC 7807 problem carrying one of the §5 codes in its <c>code</c> member.</summary>
public static class ProblemWriter
{
    /// <summary>The problem for a code; <c>status</c> when it is not the code's own (a 405 or 415 answered <c>invalid_argument</c>).</summary>
    public static ProblemDetails Create(string code, string detail, int? status = null) => new()
    {
        Status = status ?? RoomErrorCodes.HttpStatus(code),
        Title = code.Replace('_', ' '),
        Detail = detail,
        Type = TypeOf(code),
        Extensions = { ["code"] = code },
    };

    public static string TypeOf(string code) => "https://roomshare.dev/errors/" + code;

    public static async Task WriteAsync(HttpContext context, string code, string detail, int? status = null)
    {
        var problem = Create(code, detail, status);
        context.RequestServices.GetService<RoomMetrics>()?.Error(code, "http");
        context.Response.StatusCode = problem.Status!.Value;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
        }
    }
}
