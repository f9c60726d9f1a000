using System.Net.Http.Json;

namespace RoomShare.LoadTest.Population;

/// <summary>The two calls of RoomShare's HTTP API (DESIGN.md §4) the load test needs, through nginx with the API key.</summary>
public sealed class RoomApi(HttpClient http, string apiKey)
{
    public sealed record MenuItemRequest(string Id, string Name, long PriceMinor);

    private sealed record CreateRoomRequest(string Name, IReadOnlyList<MenuItemRequest> Menu);

    private sealed record CreatedRoom(string RoomId, string Epoch);

    private sealed record TokenRequest(string MemberId, string DisplayName, string Role);

    private sealed record IssuedToken(string Token);

    /// <summary><c>POST /api/rooms</c> → the room id.</summary>
    public async Task<string> CreateRoomAsync(string name, IReadOnlyList<MenuItemRequest> menu, CancellationToken cancellationToken)
    {
        var created = await PostAsync<CreatedRoom>("/api/rooms", new CreateRoomRequest(name, menu), cancellationToken);
        return created.RoomId;
    }

    /// <summary><c>POST /api/rooms/{id}/tokens</c> → a member token.</summary>
    public async Task<string> IssueTokenAsync(string roomId, string memberId, CancellationToken cancellationToken)
    {
        var issued = await PostAsync<IssuedToken>(
            $"/api/rooms/{Uri.EscapeDataString(roomId)}/tokens", new TokenRequest(memberId, memberId, "member"), cancellationToken);
        return issued.Token;
    }

    private async Task<T> PostAsync<T>(string path, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"POST {path} → {(int)response.StatusCode}: {text[..Math.Min(200, text.Length)]}");
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new HttpRequestException($"POST {path} returned no body");
    }
}
