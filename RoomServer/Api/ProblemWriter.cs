using Microsoft.AspNetCore.Mvc;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>Writes an RFC 7807 problem carrying one of the §5 codes in its <c>code</c> member.</summary>
public static class ProblemWriter
{
    public static ProblemDetails Create(string code, string detail) => new()
    {
        Status = RoomErrorCodes.HttpStatus(code),
        Title = code.Replace('_', ' '),
        Detail = detail,
        Type = "https://roomshare.dev/errors/" + code,
        Extensions = { ["code"] = code },
    };

    public static async Task WriteAsync(HttpContext context, string code, string detail)
    {
        var problem = Create(code, detail);
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
