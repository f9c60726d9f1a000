using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
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
