using System.Net.Http.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>A real embedded-mode replica process with known secrets, for tests that look at its configuration or output.</summary>
public static class SecurityTestServer
{
    public const string ApiKey = "security-test-api-key-6f1d0c2b9a8e7d6c";
    public const string SigningKey = "security-test-signing-key-3a9e41c07b5d28f6e0c4a1b7";

    public static Dictionary<string, string> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RoomServer__ApiKeys__0"] = ApiKey,
            ["RoomServer__Jwt__SigningKey"] = SigningKey,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static HttpClient Api(RoomServerProcess server)
    {
        var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return http;
    }

    public static async Task<string> CreateRoomAsync(HttpClient api)
    {
        var response = await api.PostAsJsonAsync("/api/rooms", new { name = "Table 9", menu = ContractServer.Menu }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId;
    }

    public static async Task<string> TokenAsync(HttpClient api, string roomId, string memberId)
    {
        var response = await api.PostAsJsonAsync($"/api/rooms/{roomId}/tokens", new { memberId, displayName = memberId, role = "member" }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(ContractServer.Json))!.Token;
    }
}
