using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A real replica logging at Debug (and HTTP request logs on) sees tokens in query strings and
/// headers, good and bad API keys: its whole output must carry none of them, nor the signing key —
/// while its request logs are really there (the redacted query) and hub logs name connection, member
/// and room (the call's logging scope, printed by the JSON console format).
/// </summary>
public sealed class SecretsInLogsTests
{
    private const string WrongApiKey = "wrong-api-key-5e0b7c1d9f3a2e48";

    [Fact]
    public async Task DebugLogsOfJoinsAndApiCallsCarryNoTokenKeyOrSigningKey()
    {
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("Logging__LogLevel__Default", "Debug"),
            ("Logging__LogLevel__Microsoft", "Debug"),
            ("Logging__LogLevel__Microsoft.AspNetCore", "Debug"),
            ("Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics", "Debug"),
            ("Logging__LogLevel__Microsoft.AspNetCore.HttpLogging", "Information"),
            ("Logging__Console__FormatterName", "json"),
            ("Logging__Console__FormatterOptions__IncludeScopes", "true")));
        using var api = SecurityTestServer.Api(server);
        using var anonymous = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        var room = await SecurityTestServer.CreateRoomAsync(api);
        var annToken = await SecurityTestServer.TokenAsync(api, room, "ann");
        var bobToken = await SecurityTestServer.TokenAsync(api, room, "bob");
        var forged = TestTokens.Mint("a-different-signing-key-of-plenty-of-length", room, "eve", "Eve");
        var expired = TestTokens.Mint(SecurityTestServer.SigningKey, room, "eve", "Eve", expires: DateTimeOffset.UtcNow.AddSeconds(-2));

        // Tokens in the query string: the raw client's WebSocket, a negotiate, refused tokens.
        await using (var ann = await RawHubClient.ConnectAsync(server.BaseUrl, annToken))
        {
            var joined = await ann.InvokeAsync<Rooms.JoinResult>("Join", room, null);
            joined.Position.Version.Should().Be(1);
            (await ann.InvokeAsync<Rooms.ChoiceAck>("SetChoice", room, "pizza", 2, null)).Version.Should().Be(2);
            var rejected = () => ann.InvokeAsync("SetChoice", room, "no-such-dish", 1, null);
            (await rejected.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be("unknown_menu_item");
        }

        (await anonymous.PostAsync($"/hubs/room/negotiate?negotiateVersion=1&access_token={bobToken}", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        foreach (var refused in new[] { forged, expired })
        {
            var connect = () => RawHubClient.ConnectAsync(server.BaseUrl, refused);
            (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        // Keys and tokens in headers: a wrong key, a member token on the API.
        using (var wrong = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room}"))
        {
            wrong.Headers.Add("X-Api-Key", WrongApiKey);
            (await anonymous.SendAsync(wrong)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        using (var bearer = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room}"))
        {
            bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bobToken);
            (await anonymous.SendAsync(bearer)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await api.GetFromJsonAsync<Rooms.RoomSnapshot>($"/api/rooms/{room}", ContractServer.Json))!.Version.Should().Be(2);
        await server.StopAsync();
        var output = server.Output;

        output.Should().NotStartWith(OutputLog.DroppedMarker, "the whole output must be checked");
        output.Should().Contain("access_token=[redacted]", "request logs are on, with the token redacted");
        output.Should().MatchRegex(
            $"Connection (?<id>[^:\"]+): hub call SetChoice rejected: unknown_menu_item.*\"ConnectionId\":\"\\k<id>\".*\"MemberId\":\"ann\".*\"RoomId\":\"{room}\"",
            "a refused hub call's log names its connection, and its scope carries the connection, member and room");
        foreach (var (secret, what) in new[]
        {
            (annToken, "a member token"), (bobToken, "a member token"), (forged, "a forged token"), (expired, "an expired token"),
            (SecurityTestServer.ApiKey, "the API key"), (WrongApiKey, "a presented wrong API key"), (SecurityTestServer.SigningKey, "the signing key"),
        })
        {
            foreach (var part in secret.Split('.').Where(p => p.Length >= 16).Append(secret))
            {
                output.Should().NotContain(part, $"{what} (or a part of it) must never be logged");
            }
        }
    }
}
