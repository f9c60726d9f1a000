using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Fact]
    public async Task AnExpiredTokenIsRefusedAtConnect()
    {
        var room = await Server.CreateRoomAsync();
        var expired = TestTokens.Mint(Server.SigningKey, room.Id, "ann", "Ann", expires: DateTimeOffset.UtcNow.AddMinutes(-5));

        var connect = () => Server.ConnectAsync(expired);

        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
    }

    [Fact]
    public async Task AForgedTokenIsRefusedAtConnect()
    {
        var room = await Server.CreateRoomAsync();
        var forged = TestTokens.Mint("a-completely-different-signing-key-of-enough-length", room.Id, "ann", "Ann");

        var connect = () => Server.ConnectAsync(forged);

        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
    }

    [Fact]
    public async Task AValidTokenMintedOutsideTheApiIsAccepted()
    {
        var room = await Server.CreateRoomAsync();
        await using var client = await Server.ConnectAsync(TestTokens.Mint(Server.SigningKey, room.Id, "ann", "Ann"));

        (await client.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(1);
    }

    /// <summary>
    /// RFC 7519's NumericDate may hold a fraction, and another issuer may write one: the bearer handler accepts such an
    /// <c>exp</c> at connect, so every call must honour it too, not count the token expired because it is no integer.
    /// </summary>
    [Fact]
    public async Task ATokenWhoseExpiryHasAFractionWorksOnEveryCall()
    {
        var room = await Server.CreateRoomAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = HandMadeToken(Server.SigningKey, $$"""
            {"sub":"ann","room":"{{room.Id}}","name":"Ann","role":"member","iss":"roomshare","aud":"roomshare","iat":{{now}},"nbf":{{now}},"exp":{{now + 3600}}.5}
            """);
        await using var client = await Server.ConnectAsync(token);

        (await client.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(1);
        (await client.SetChoiceAsync(room, "pizza", 1)).Version.Should().Be(2);
    }

    /// <summary>
    /// DESIGN §3: member tokens are HS256. A token with every claim right, signed with the server's own key but by HS384
    /// or HS512, is a bad token: 401 at the hub's connect and on a room read. The same token signed HS256 is taken,
    /// so the algorithm alone is what is refused.
    /// </summary>
    [Theory]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task ATokenSignedWithTheServersKeyByAnotherHmacThanHs256IsRefused(string alg)
    {
        var room = await Server.CreateRoomAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $$"""
            {"sub":"ann","room":"{{room.Id}}","name":"Ann","role":"member","iss":"roomshare","aud":"roomshare","iat":{{now}},"nbf":{{now}},"exp":{{now + 3600}}}
            """;
        var hs256 = HandMadeToken(Server.SigningKey, payload);
        var other = HandMadeToken(Server.SigningKey, payload, alg);

        (await ReadRoomAsync(room, hs256)).StatusCode.Should().Be(HttpStatusCode.OK, "the same claims signed HS256 are a good token");
        await using (var control = await Server.ConnectAsync(hs256))
        {
            (await control.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(1);
        }

        using var read = await ReadRoomAsync(room, other);
        read.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"a token signed {alg} is not a member token");
        (await read.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
        var connect = () => Server.ConnectAsync(other);
        (await connect.Should().ThrowAsync<HubConnectException>($"a token signed {alg} opens no connection")).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    /// <summary>
    /// DESIGN §4: a token that gives a claim RoomShare reads more than one value (a JSON array) is a bad token, refused at
    /// the hub's connect and on a room read, not read by its first value (an owner's role first would pass for an owner).
    /// </summary>
    [Theory]
    [InlineData("role", """["owner","member"]""")]
    [InlineData("role", """["member","member"]""")]
    [InlineData("sub", """["ann","bob"]""")]
    [InlineData("room", """["{room}","{room}"]""")]
    [InlineData("name", """["Ann","Bob"]""")]
    [InlineData("rgen", """["0","5"]""")]
    public async Task ATokenThatGivesAClaimMoreThanOneValueIsRefused(string claim, string values)
    {
        var room = await Server.CreateRoomAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, string>
        {
            ["sub"] = "\"ann\"",
            ["room"] = $"\"{room.Id}\"",
            ["name"] = "\"Ann\"",
            ["role"] = "\"member\"",
            ["iss"] = "\"roomshare\"",
            ["aud"] = "\"roomshare\"",
            ["nbf"] = $"{now}",
            ["exp"] = $"{now + 3600}",
        };
        string Payload() => "{" + string.Join(",", claims.Select(c => $"\"{c.Key}\":{c.Value}")) + "}";
        var good = HandMadeToken(Server.SigningKey, Payload());
        claims[claim] = values.Replace("{room}", room.Id, StringComparison.Ordinal);
        var bad = HandMadeToken(Server.SigningKey, Payload());

        (await ReadRoomAsync(room, good)).StatusCode.Should().Be(HttpStatusCode.OK, "the same claims with one value each are a good token");
        using var read = await ReadRoomAsync(room, bad);
        read.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"a token whose {claim} is {values} is not a member token");
        (await read.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
        var connect = () => Server.ConnectAsync(bad);
        (await connect.Should().ThrowAsync<HubConnectException>($"a token whose {claim} is {values} opens no connection")).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    private async Task<HttpResponseMessage> ReadRoomAsync(TestRoom room, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Anonymous.SendAsync(request);
    }

    /// <summary>A token over exactly the payload given (a library would write its own numbers), signed HS256 unless told otherwise.</summary>
    private static string HandMadeToken(string signingKey, string payload, string alg = "HS256")
    {
        static string Encode(byte[] bytes) => Base64UrlEncoder.Encode(bytes);
        var unsigned = Encode(Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}","typ":"JWT"}""")) + "." + Encode(Encoding.UTF8.GetBytes(payload.Trim()));
        var key = Encoding.UTF8.GetBytes(signingKey);
        var data = Encoding.ASCII.GetBytes(unsigned);
        var signature = alg switch
        {
            "HS256" => HMACSHA256.HashData(key, data),
            "HS384" => HMACSHA384.HashData(key, data),
            "HS512" => HMACSHA512.HashData(key, data),
            _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "an HMAC algorithm"),
        };
        return unsigned + "." + Encode(signature);
    }

    [Fact]
    public async Task ATokenForAnotherRoomCannotJoinThisOne()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        await using var client = await Server.ConnectAsync(await Server.TokenAsync(other, "ann"));

        (await client.RejectedCodeAsync("Join", room.Id, null)).Should().Be("forbidden");

        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
    }

    [Fact]
    public async Task TheApiRequiresAValidApiKey()
    {
        var missing = await Server.Anonymous.PostAsJsonAsync("/api/rooms", new { name = "x", menu = ContractServer.Menu });
        using var wrongKey = new HttpRequestMessage(HttpMethod.Post, "/api/rooms") { Content = JsonContent.Create(new { name = "x", menu = ContractServer.Menu }) };
        wrongKey.Headers.Add("X-Api-Key", "not-the-key-at-all");
        var wrong = await Server.Anonymous.SendAsync(wrongKey);

        foreach (var response in new[] { missing, wrong })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
        }
    }

    [Fact]
    public async Task AKeySplitOverTwoHeaderLinesIsRefusedNotServed()
    {
        var body = JsonSerializer.Serialize(new { name = "x", menu = ContractServer.Menu }, JsonSerializerOptions.Web);
        using var whole = new HttpRequestMessage(HttpMethod.Post, "/api/rooms") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        whole.Headers.Add("X-Api-Key", Server.CommaApiKey);
        (await Server.Anonymous.SendAsync(whole)).StatusCode.Should().Be(HttpStatusCode.Created, "a key with a comma in it is a key, in one header line");

        // HttpClient joins a header's values into one line, so the two lines go out by hand. Before, they passed
        // authentication joined, then named no configured key for the per-key limits: a 500.
        var comma = Server.CommaApiKey.IndexOf(',', StringComparison.Ordinal);
        var split = await RawStatusLineAsync(Server.BaseUrl,
            $"POST /api/rooms HTTP/1.1\r\nHost: {Server.BaseUrl.Authority}\r\nX-Api-Key: {Server.CommaApiKey[..comma]}\r\n"
            + $"X-Api-Key: {Server.CommaApiKey[(comma + 1)..]}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n"
            + $"Connection: close\r\n\r\n{body}");
        split.Should().StartWith("HTTP/1.1 401", "two header lines are not one key");
    }

    /// <summary>The status line of a request written to the server's socket as it is.</summary>
    private static async Task<string> RawStatusLineAsync(Uri server, string request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, timeout.Token);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync(timeout.Token) ?? "";
    }

    [Fact]
    public async Task AMemberTokenReadsItsOwnRoomButNotAnother()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");

        using var own = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        own.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var foreign = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{other.Id}");
        foreign.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var write = new HttpRequestMessage(HttpMethod.Put, $"/api/rooms/{room.Id}/state") { Content = JsonContent.Create(new { state = "locked" }) };
        write.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        (await Server.Anonymous.SendAsync(own)).StatusCode.Should().Be(HttpStatusCode.OK);
        var forbidden = await Server.Anonymous.SendAsync(foreign);
        forbidden.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await forbidden.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("forbidden");
        (await Server.Anonymous.SendAsync(write)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "a member token is not an API key");
        (await Server.SnapshotAsync(room)).State.Should().Be("open");
    }
}
