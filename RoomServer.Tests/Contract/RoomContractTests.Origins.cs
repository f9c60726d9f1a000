using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The hub's Origin check with no allow-list configured: the same origin (the web client this server
/// serves) and clients that send no Origin get in; a page on another origin gets 403 <c>forbidden</c>.
/// </summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task AHubRequestFromAnotherOriginIsRefusedWithForbidden()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");

        var negotiate = await NegotiateAsync(token, "https://evil.example");
        negotiate.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        negotiate.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await negotiate.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("forbidden");

        var connect = () => HubTestClient.ConnectAsync(Server.BaseUrl, token, o => o.ConfigureHttp = http => http.Headers["Origin"] = "https://evil.example");
        (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
    }

    [Fact]
    public async Task AHubRequestFromTheSameOriginOrWithoutOriginIsServed()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        var sameOrigin = Server.BaseUrl.GetLeftPart(UriPartial.Authority);

        var negotiate = await NegotiateAsync(token, sameOrigin);
        negotiate.StatusCode.Should().Be(HttpStatusCode.OK);
        negotiate.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse("a same-origin page needs no CORS, and no other origin gets it");
        (await NegotiateAsync(token, origin: null)).StatusCode.Should().Be(HttpStatusCode.OK);

        await using var browserLike = await HubTestClient.ConnectAsync(Server.BaseUrl, token, o => o.ConfigureHttp = http => http.Headers["Origin"] = sameOrigin);
        (await browserLike.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(1);
    }

    private async Task<HttpResponseMessage> NegotiateAsync(string token, string? origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await Server.Anonymous.SendAsync(request);
    }
}
