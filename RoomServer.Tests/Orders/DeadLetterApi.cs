using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>The dead-letter operator API (DESIGN.md §8) as an operator calls it, and letters written straight into a server's outbox.</summary>
internal static class DeadLetterApi
{
    /// <summary><c>POST /api/deadletters/retry</c>: 202, then what it retried.</summary>
    public static async Task<RetryAllAnswer> RetryAllAsync(HttpClient api, string? after = null)
    {
        using var retry = await api.PostAsync(new Uri("/api/deadletters/retry" + (after is null ? "" : "?after=" + after), UriKind.Relative), null);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
        var body = await retry.Content.ReadFromJsonAsync<JsonElement>();
        return new RetryAllAnswer(
            [.. body.GetProperty("retried").EnumerateArray().Select(e => e.GetString()!)],
            body.GetProperty("more").GetBoolean(),
            body.GetProperty("next").GetString(),
            body.GetProperty("skipped").GetInt32());
    }

    /// <summary>Every dead letter, oldest first, page by page (<c>GET /api/deadletters</c>).</summary>
    public static async Task<List<ListedLetter>> AllAsync(HttpClient api)
    {
        var letters = new List<ListedLetter>();
        string? after = null;
        do
        {
            var page = await api.GetFromJsonAsync<JsonElement>("/api/deadletters?limit=1000" + (after is null ? "" : "&after=" + after));
            letters.AddRange(page.GetProperty("items").EnumerateArray().Select(i => new ListedLetter(
                i.GetProperty("id").GetString()!, i.GetProperty("orderId").GetString()!, i.GetProperty("endpoint").GetString()!)));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (after is not null);

        return letters;
    }

    /// <summary>
    /// Dead letters for versions <paramref name="firstVersion"/>.. of <paramref name="room"/>, oldest first: the first
    /// <paramref name="forFirst"/> for <paramref name="firstEndpoint"/>, then <paramref name="forSecond"/> for <paramref name="secondEndpoint"/>.
    /// </summary>
    public static async Task WriteAsync(
        ContractServer server, TestRoom room, string firstEndpoint, int forFirst, string secondEndpoint, int forSecond, int firstVersion = 1)
    {
        var outbox = server.Services.GetRequiredService<IOrderOutbox>();
        for (var i = 0; i < forFirst + forSecond; i++)
        {
            var version = firstVersion + i;
            await outbox.DeadLetterAsync(new DeadLetter(
                "", $"{room.Id}:{version}", room.Id, OrderRecordTypes.Submitted, version, "2026-12-02T00:00:00Z",
                i < forFirst ? firstEndpoint : secondEndpoint, 8, "HTTP 500", "2026-12-02T00:05:00Z", "{}"));
        }
    }
}

/// <summary>A retry-all's answer: the letters put back, whether there may be more, the <c>after</c> to go on from, and how many it passed over.</summary>
internal sealed record RetryAllAnswer(IReadOnlyList<string> Retried, bool More, string? Next, int Skipped);

/// <summary>A dead letter as <c>GET /api/deadletters</c> lists it.</summary>
internal sealed record ListedLetter(string Id, string OrderId, string Endpoint);
