using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// <c>RoomServer__AllowedOrigins__N</c> on a real replica: listed origins get in, every other browser
/// origin (even the server's own) gets 403, clients without Origin are unaffected, and a malformed
/// entry stops the start. The default (no list: same origin only) is in the contract suite.
/// </summary>
public sealed class HubOriginAllowListTests
{
    private const string MenuApp = "https://menu.example.com";

    [Fact]
    public async Task OnlyListedOriginsAndClientsWithoutOriginReachTheHub()
    {
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(("RoomServer__AllowedOrigins__0", MenuApp)));
        using var api = SecurityTestServer.Api(server);
        var room = await SecurityTestServer.CreateRoomAsync(api);
        var token = await SecurityTestServer.TokenAsync(api, room, "ann");

        (await NegotiateAsync(server, token, MenuApp)).Should().Be(HttpStatusCode.OK);
        (await NegotiateAsync(server, token, origin: null)).Should().Be(HttpStatusCode.OK);
        (await NegotiateAsync(server, token, "https://evil.example")).Should().Be(HttpStatusCode.Forbidden);
        (await NegotiateAsync(server, token, server.BaseUrl.GetLeftPart(UriPartial.Authority))).Should().Be(HttpStatusCode.Forbidden,
            "a configured list replaces the same-origin default");

        await using var listed = await HubTestClient.ConnectAsync(server.BaseUrl, token, o => o.ConfigureHttp = http => http.Headers["Origin"] = MenuApp);
        (await listed.InvokeAsync<Rooms.JoinResult>("Join", room, null)).Position.Version.Should().Be(1);
        var unlisted = () => HubTestClient.ConnectAsync(server.BaseUrl, token, o => o.ConfigureHttp = http => http.Headers["Origin"] = "https://evil.example");
        (await unlisted.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AListedOriginGetsCorsAnswersSoABrowserMayNegotiateAcrossOrigins()
    {
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(("RoomServer__AllowedOrigins__0", MenuApp)));
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };

        // What a browser sends first: the JS client's negotiate carries custom headers and credentials.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/hubs/room/negotiate?negotiateVersion=1");
        preflight.Headers.Add("Origin", MenuApp);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-requested-with,x-signalr-user-agent");
        using var answer = await http.SendAsync(preflight);
        answer.StatusCode.Should().Be(HttpStatusCode.NoContent);
        answer.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal(MenuApp);
        answer.Headers.GetValues("Access-Control-Allow-Credentials").Should().Equal("true");

        using var foreign = new HttpRequestMessage(HttpMethod.Options, "/hubs/room/negotiate?negotiateVersion=1");
        foreign.Headers.Add("Origin", "https://evil.example");
        foreign.Headers.Add("Access-Control-Request-Method", "POST");
        using var refused = await http.SendAsync(foreign);
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        refused.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    [Fact]
    public async Task AnAllowListEntryThatIsNotAnOriginStopsTheReplicaAtStartUp()
    {
        var start = () => RoomServerProcess.StartAsync(SecurityTestServer.Settings(("RoomServer__AllowedOrigins__0", "menu.example.com/app")));

        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("RoomServer:AllowedOrigins");
    }

    private static async Task<HttpStatusCode> NegotiateAsync(RoomServerProcess server, string token, string? origin)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
