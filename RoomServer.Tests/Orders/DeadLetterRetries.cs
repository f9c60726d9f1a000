using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary><c>POST /api/deadletters/retry</c> (DESIGN.md §8) as the operator calls it: 202, then what it retried.</summary>
internal static class DeadLetterRetries
{
    public static async Task<RetryAllAnswer> RetryAllAsync(HttpClient api, string? after = null)
    {
        using var retry = await api.PostAsync(new Uri("/api/deadletters/retry" + (after is null ? "" : "?after=" + after), UriKind.Relative), null);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
        var body = await retry.Content.ReadFromJsonAsync<JsonElement>();
        return new RetryAllAnswer(
            [.. body.GetProperty("retried").EnumerateArray().Select(e => e.GetString()!)],
            body.GetProperty("more").GetBoolean(),
            body.GetProperty("next").GetString());
    }
}

/// <summary>A retry-all's answer: the letters put back, whether there may be more, and the <c>after</c> to go on from.</summary>
internal sealed record RetryAllAnswer(IReadOnlyList<string> Retried, bool More, string? Next);
