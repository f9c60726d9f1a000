using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>Token lifetime without clock skew (DESIGN.md §3): refused from exp on, at connect, on the API and on hub calls; the close after such a call lets the client reconnect with a fresh token.</summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task ATokenOneSecondPastItsExpiryIsRefusedAtConnectAndOnTheApi()
    {
        var room = await Server.CreateRoomAsync();
        var justExpired = TestTokens.Mint(Server.SigningKey, room.Id, "ann", "Ann", expires: DateTimeOffset.UtcNow.AddSeconds(-1));

        var connect = () => Server.ConnectAsync(justExpired);
        (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized,
            "no clock skew: the default would have admitted this token for five more minutes");

        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", justExpired);
        var response = await Server.Anonymous.SendAsync(read);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
    }

    [Fact]
    public async Task ACallAfterTheTokenExpiredIsRefusedAndTheConnectionClosed()
    {
        var room = await Server.CreateRoomAsync();

        // Long enough to connect and join on a loaded machine; exp has whole seconds.
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeSeconds());
        var reconnect = new AskedOnlyRetryPolicy();
        await using var client = await Server.ConnectAsync(TestTokens.Mint(Server.SigningKey, room.Id, "ann", "Ann", expires: expiresAt), o => o.Reconnect = reconnect);
        var joined = await client.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null);
        var before = await client.SetChoiceAsync(room, "pizza", 1);
        before.Version.Should().Be(joined.Position.Version + 1, "the token is still valid");

        var untilExpiry = expiresAt - DateTimeOffset.UtcNow;
        untilExpiry.Should().BePositive("the test must call before expiry first; the machine was too slow to join within 5 s");
        await Task.Delay(untilExpiry + TimeSpan.FromMilliseconds(50));

        // Refused by the hub filter (unauthorized) or, if SignalR's once-a-second expiry sweep won the
        // race, by a connection already closed: never served.
        var call = () => client.SetChoiceAsync(room, "pizza", 2);
        var refusal = (await call.Should().ThrowAsync<Exception>("a call after exp must not be served")).Which;
        if (refusal is HubErrorException hubError)
        {
            hubError.Code.Should().Be("unauthorized");
        }

        // Completes (with or without an error) once the server has closed the connection.
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        reconnect.Asked.Should().Be(1, "the close lets the client reconnect with a fresh token (DESIGN.md §3), whichever closed it");
        var after = await Server.SnapshotAsync(room);
        after.Version.Should().Be(before.Version, "the refused call changed nothing");
        after.Choices.Should().ContainSingle(c => c.MemberId == "ann" && c.MenuId == "pizza").Which.Quantity.Should().Be(1);
    }
}

/// <summary>The token API's expiresAt is the token's own exp, not a fraction of a second after it.</summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task TheTokenApisExpiresAtIsTheTokensExp()
    {
        var room = await Server.CreateRoomAsync();

        using var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = "ann", displayName = "Ann" });
        var issued = (await response.Content.ReadFromJsonAsync<RoomShare.RoomServer.Api.TokenResponse>())!;

        var exp = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(issued.Token).ValidTo;
        issued.ExpiresAt.Should().Be(new DateTimeOffset(exp, TimeSpan.Zero), "a client that plans its refresh by expiresAt must not be a second late");
    }
}

/// <summary>
/// A token minted elsewhere (signed with the configured key, §3) may name an <c>exp</c> past the year 9999 ("never") or
/// a fractional one (RFC 7519's NumericDate is any JSON number): one the connect admitted is as good on every call, not
/// refused there as expired nor failed without a code.
/// </summary>
public abstract partial class RoomContractTests
{
    [Theory]
    [InlineData("99999999999")] // the year 5138
    [InlineData("253402300800")] // 10000-01-01, one second past what a DateTimeOffset holds
    [InlineData("9223372036854775807")]
    [InlineData("4102444800.5")] // 2100, and a half second
    public async Task ATokenWhoseExpIsFarOffOrFractionalJoinsAndWrites(string exp)
    {
        var room = await Server.CreateRoomAsync();
        var token = HandMadeToken(Server.SigningKey, room.Id, "ann", exp);

        await using var client = await Server.ConnectAsync(token);
        var joined = await client.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null);
        (await client.SetChoiceAsync(room, "pizza", 1)).Version.Should().Be(joined.Position.Version + 1);
    }

    /// <summary>A member token written out by hand (HS256), so its <c>exp</c> is exactly the JSON number given.</summary>
    private static string HandMadeToken(string signingKey, string roomId, string memberId, string exp)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = """{"alg":"HS256","typ":"JWT"}""";
        var payload = $$"""{"sub":"{{memberId}}","room":"{{roomId}}","name":"Ann","role":"member","iss":"roomshare","aud":"roomshare","iat":{{now}},"nbf":{{now}},"exp":{{exp}}}""";
        var signed = $"{Base64Url(header)}.{Base64Url(payload)}";
        using var hmac = new System.Security.Cryptography.HMACSHA256(System.Text.Encoding.UTF8.GetBytes(signingKey));
        return $"{signed}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(hmac.ComputeHash(System.Text.Encoding.ASCII.GetBytes(signed)))}";
    }

    private static string Base64Url(string json) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Text.Encoding.UTF8.GetBytes(json));
}
