using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// DESIGN §5 on the routes whose auth is the API key alone (§4): a valid member token there is 403
/// <c>forbidden</c> (credentials that give no right to the route), while no credentials, a bad token or a
/// bad key are 401 <c>unauthorized</c>. Nothing changes either way.
/// </summary>
public abstract partial class RoomContractTests
{
    /// <summary>The routes a member token may use as well as the API key: its own room's reads.</summary>
    private static readonly string[] MemberReadableRoutes = ["GET /api/rooms/{roomId}", "GET /api/rooms/{roomId}/events"];

    /// <summary>Every API-key-only route, with a body it would accept from the API key.</summary>
    private static readonly (string Route, object? Body)[] ApiKeyOnlyRoutes =
    [
        ("POST /api/rooms", new { name = "x", menu = ContractServer.Menu }),
        ("POST /api/rooms/{roomId}/tokens", new { memberId = "intruder", displayName = "I", role = "owner" }),
        ("POST /api/rooms/{roomId}/notices", new { kind = "x" }),
        ("PUT /api/rooms/{roomId}/state", new { state = "closed" }),
        ("DELETE /api/rooms/{roomId}", null),
        ("DELETE /api/rooms/{roomId}/members/{memberId}", null),
        ("POST /api/announcements", new { kind = "x", message = "y" }),
        ("GET /api/rooms/{roomId}/order", null),
        ("GET /api/deadletters", null),
        ("POST /api/deadletters/{id}/retry", null),
        ("DELETE /api/deadletters/{id}", null),
        ("POST /api/deadletters/retry", null),
    ];

    [Fact]
    public async Task EveryApiKeyOnlyRouteIsTriedBelow()
    {
        var document = await Server.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var apiRoutes =
            from path in document.GetProperty("paths").EnumerateObject()
            where path.Name.StartsWith("/api/", StringComparison.Ordinal)
            from operation in path.Value.EnumerateObject()
            select $"{operation.Name.ToUpperInvariant()} {path.Name}";

        apiRoutes.Except(MemberReadableRoutes).Should().BeEquivalentTo(ApiKeyOnlyRoutes.Select(r => r.Route), "a new API-key-only route gets a row here");
    }

    [Fact]
    public async Task AValidMemberTokenOnEveryApiKeyOnlyRouteIsForbiddenAndChangesNothing()
    {
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");
        var token = await Server.TokenAsync(room, "ann");
        var before = await Server.SnapshotAsync(room);

        foreach (var (route, body) in ApiKeyOnlyRoutes)
        {
            using var request = Request(route, body, room);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

            using var response = await Server.Anonymous.SendAsync(request);

            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{route} with a valid member token: {await response.Content.ReadAsStringAsync()}");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
            problem.Code.Should().Be("forbidden");
            problem.Detail.Should().Contain("API key", $"{route} says what it needs");
        }

        var after = await Server.SnapshotAsync(room);
        after.Version.Should().Be(before.Version, "no refused call changed the room");
        after.State.Should().Be("open");
        after.Members.Select(m => m.MemberId).Should().Equal(before.Members.Select(m => m.MemberId));
    }

    [Fact]
    public async Task ABadTokenOrABadKeyOnAnApiKeyOnlyRouteIsStillUnauthorized()
    {
        var room = await Server.CreateRoomAsync();
        var valid = await Server.TokenAsync(room, "ann");
        var expired = TestTokens.Mint(Server.SigningKey, room.Id, "ann", "Ann", expires: DateTimeOffset.UtcNow.AddMinutes(-5));
        var forged = TestTokens.Mint("a-completely-different-signing-key-of-enough-length", room.Id, "ann", "Ann");
        var attempts = new (string Name, string? Bearer, string? ApiKey)[]
        {
            ("no credentials", null, null),
            ("a garbage bearer token", "not-a-token-at-all", null),
            ("an expired member token", expired, null),
            ("a forged member token", forged, null),
            ("a wrong API key beside a valid member token", valid, "not-the-key-at-all"),
            ("a forged member token beside a valid API key", forged, Server.ApiKey),
            ("an expired member token beside a valid API key", expired, Server.ApiKey),
        };

        foreach (var (name, bearer, apiKey) in attempts)
        {
            using var request = Request("PUT /api/rooms/{roomId}/state", new { state = "closed" }, room);
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            if (apiKey is not null)
            {
                request.Headers.Add("X-Api-Key", apiKey);
            }

            using var response = await Server.Anonymous.SendAsync(request);

            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, name);
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized", name);
        }

        (await Server.SnapshotAsync(room)).State.Should().Be("open");
    }

    /// <summary>
    /// The routes a member token may read are no looser: the policy takes either credential, but one that was given
    /// and is bad refuses the request (401), even beside a good one.
    /// </summary>
    [Fact]
    public async Task ABadCredentialBesideAGoodOneOnAMemberReadableRouteIsUnauthorized()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        var valid = await Server.TokenAsync(room, "ann");
        var otherRooms = await Server.TokenAsync(other, "ann");
        var forged = TestTokens.Mint("a-completely-different-signing-key-of-enough-length", room.Id, "ann", "Ann");
        var attempts = new (string Name, string Bearer, string ApiKey)[]
        {
            ("a wrong API key beside the room's member token", valid, "not-the-key-at-all"),
            ("a wrong API key beside another room's member token", otherRooms, "not-the-key-at-all"),
            ("a forged member token beside a valid API key", forged, Server.ApiKey),
        };

        foreach (var route in MemberReadableRoutes)
        {
            foreach (var (name, bearer, apiKey) in attempts)
            {
                using var request = Request(route, null, room);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                request.Headers.Add("X-Api-Key", apiKey);

                using var response = await Server.Anonymous.SendAsync(request);

                response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{route}, {name}: {await response.Content.ReadAsStringAsync()}");
                (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
            }

            // Each credential alone still reads.
            foreach (var (bearer, apiKey) in new (string?, string?)[] { (valid, null), (null, Server.ApiKey) })
            {
                using var request = Request(route, null, room);
                if (bearer is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                }

                if (apiKey is not null)
                {
                    request.Headers.Add("X-Api-Key", apiKey);
                }

                using var response = await Server.Anonymous.SendAsync(request);
                response.StatusCode.Should().Be(HttpStatusCode.OK, route);
            }
        }
    }

    private static HttpRequestMessage Request(string route, object? body, TestRoom room)
    {
        var (method, path) = (route[..route.IndexOf(' ', StringComparison.Ordinal)], route[(route.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{roomId}", room.Id, StringComparison.Ordinal)
            .Replace("{memberId}", "ann", StringComparison.Ordinal)
            .Replace("{id}", "1-0", StringComparison.Ordinal));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }
}
