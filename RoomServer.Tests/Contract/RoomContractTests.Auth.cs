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

    /// <summary>An HS256 token over exactly the payload given (a library would write its own numbers).</summary>
    private static string HandMadeToken(string signingKey, string payload)
    {
        static string Encode(byte[] bytes) => Base64UrlEncoder.Encode(bytes);
        var unsigned = Encode(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}""")) + "." + Encode(Encoding.UTF8.GetBytes(payload.Trim()));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingKey), Encoding.ASCII.GetBytes(unsigned));
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
