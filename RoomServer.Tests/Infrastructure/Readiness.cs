using System.Net;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>Waits for a replica's <c>/readyz</c> (DESIGN.md §4, §9) to say what a test expects.</summary>
public static class Readiness
{
    /// <summary>
    /// Polls <c>/readyz</c> until it answers <paramref name="status"/> with a <c>reason</c> that <paramref name="matches"/>
    /// (any, when null), within <paramref name="bound"/>; returns the reason (null when there is none).
    /// </summary>
    public static async Task<string?> UntilAsync(HttpClient http, HttpStatusCode status, TimeSpan bound, Func<string?, bool>? matches = null)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            using var response = await http.GetAsync("/readyz");
            var body = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(body);
            var reason = json.RootElement.TryGetProperty("reason", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
            if (response.StatusCode == status && (matches is null || matches(reason)))
            {
                return reason;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/readyz did not answer {(int)status} (with the reason expected) within {bound.TotalSeconds:0} s; last {(int)response.StatusCode}: {body}");
            }

            await Task.Delay(100);
        }
    }
}
