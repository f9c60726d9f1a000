using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Contract.Parity;

/// <summary>
/// A parity side's HTTP requests to its one room (DESIGN.md §4), each answered as <c>HTTP status body</c> with the
/// body normalized (<see cref="ParityJson"/>), so the two sides' answers compare as strings.
/// </summary>
internal sealed class ParityRoomApi(ContractServer server, TestRoom room)
{
    public Task<string> PutStateAsync(object? state) =>
        SendAsync(HttpMethod.Put, "state", JsonSerializer.Serialize(new Dictionary<string, object?> { ["state"] = state }));

    public Task<string> DeleteMemberAsync(object? target) =>
        SendAsync(HttpMethod.Delete, $"members/{Uri.EscapeDataString(target as string ?? "null")}");

    public Task<string> DeleteRoomAsync() => SendAsync(HttpMethod.Delete, "");

    public Task<string> ReadOrderAsync() => SendAsync(HttpMethod.Get, "order");

    /// <summary><paramref name="from"/> "behind" and "ahead" are relative to <paramref name="version"/>; anything else is sent as it is.</summary>
    public Task<string> ReadTrailAsync(object? from, object? limit, long version)
    {
        var start = from switch
        {
            "behind" => Math.Max(0, version - 3).ToString(CultureInfo.InvariantCulture),
            "ahead" => (version + 5).ToString(CultureInfo.InvariantCulture),
            _ => Convert.ToString(from, CultureInfo.InvariantCulture) ?? "",
        };
        return SendAsync(HttpMethod.Get, $"events?from={start}&limit={Convert.ToString(limit, CultureInfo.InvariantCulture)}");
    }

    /// <summary>A member's token reads the room or its trail (DESIGN.md §4: a token for the room may), with no API key.</summary>
    public Task<string> ReadAsMemberAsync(string token, bool trail) =>
        SendAsync(HttpMethod.Get, trail ? "events" : "", bearer: token);

    /// <summary>A notice whose payload is absent (null), a JSON text as it is (<c>{…}</c>, <c>[…]</c>), "big" (past the limit), or any other value serialized.</summary>
    public Task<string> PostNoticeAsync(object? payload, string? idempotencyKey)
    {
        var json = payload switch
        {
            null => null,
            "big" => JsonSerializer.Serialize(new { text = new string('x', ContractServer.MaxNoticePayloadBytes) }),
            string s when s.StartsWith('{') || s.StartsWith('[') => s,
            var v => JsonSerializer.Serialize(v),
        };
        var body = json is null ? "{\"kind\":\"eta\"}" : $"{{\"kind\":\"eta\",\"payload\":{json}}}";
        return SendAsync(HttpMethod.Post, "notices", body, idempotencyKey);
    }

    /// <summary>A member's token, or the refusal (a deleted room issues none).</summary>
    public async Task<(string? Token, string Refusal)> IssueTokenAsync(string member, string role)
    {
        using var issued = await server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = member, displayName = member.ToUpperInvariant(), role });
        return issued.IsSuccessStatusCode
            ? ((await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString(), "")
            : (null, $"no token: {await AnswerAsync(issued)}");
    }

    /// <summary>The room's snapshot as the API key reads it, unnormalized (null when it is not there), and the answer.</summary>
    public async Task<(JsonElement? Snapshot, string Answer)> ReadRoomAsync()
    {
        using var response = await server.Api.GetAsync($"/api/rooms/{room.Id}");
        var body = await response.Content.ReadAsStringAsync();
        var snapshot = response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement : (JsonElement?)null;
        return (snapshot, $"HTTP {(int)response.StatusCode} {ParityJson.Normalize(body, room.Id, room.Epoch)}");
    }

    private async Task<string> SendAsync(HttpMethod method, string path, string? body = null, string? idempotencyKey = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, $"/api/rooms/{room.Id}" + (path.Length > 0 ? "/" + path : ""));
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await (bearer is null ? server.Api : server.Anonymous).SendAsync(request);
        return await AnswerAsync(response);
    }

    private async Task<string> AnswerAsync(HttpResponseMessage response) =>
        $"HTTP {(int)response.StatusCode} {ParityJson.Normalize(await response.Content.ReadAsStringAsync(), room.Id, room.Epoch)}";
}
