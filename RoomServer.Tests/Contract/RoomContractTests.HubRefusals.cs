using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// SignalR's connection endpoint refuses some requests itself (HttpConnectionDispatcher): these answered
/// text/plain, or nothing typed at all, until <c>Hubs/HubRefusalProblems</c>. Each is now a §5 problem that
/// keeps its status; and the hub's working paths (negotiate, each transport) are unchanged.
/// </summary>
public abstract partial class RoomContractTests
{
    private const string WebSocketUpgrade = "websocket-upgrade";
    private const string EventStream = "event-stream";

    public static TheoryData<string, string, string?, int, string> HubEndpointRefusals => new()
    {
        // method, path and query, how (null: a plain request), status, a word the problem's detail says
        { "GET", "/hubs/room/negotiate?negotiateVersion=1", null, 405, "POST" },
        { "PUT", "/hubs/room/negotiate", null, 405, "POST" },
        { "PUT", "/hubs/room", null, 405, "DELETE" },
        { "OPTIONS", "/hubs/room?id=x", null, 405, "DELETE" },
        { "GET", "/hubs/room", null, 400, "connectionToken" },
        { "GET", "/hubs/room", EventStream, 400, "connectionToken" },
        { "POST", "/hubs/room", null, 400, "connectionToken" },
        { "DELETE", "/hubs/room", null, 400, "connectionToken" },
        { "GET", "/hubs/room?id=no-such-connection", null, 404, "negotiate again" },
        { "GET", "/hubs/room?id=no-such-connection", EventStream, 404, "negotiate again" },
        { "GET", "/hubs/room?id=no-such-connection", WebSocketUpgrade, 404, "negotiate again" },
        { "POST", "/hubs/room?id=no-such-connection", null, 404, "negotiate again" },
        { "DELETE", "/hubs/room?id=no-such-connection", null, 404, "negotiate again" },

        // Not the hub's: a path below it that nothing serves is routing's unknown path, said as such.
        { "GET", "/hubs/room/nothing-here", null, 404, "there is nothing at GET /hubs/room/nothing-here" },
    };

    [Theory]
    [MemberData(nameof(HubEndpointRefusals))]
    public async Task TheHubEndpointsOwnRefusalsAreProblemsThatKeepTheirStatus(string method, string path, string? how, int status, string detailSays)
    {
        var token = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        using var request = HubRequest(new HttpMethod(method), path, token);
        if (how == EventStream)
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
        }
        else if (how == WebSocketUpgrade)
        {
            AddWebSocketUpgrade(request);
        }

        using var response = await Server.Anonymous.SendAsync(request);

        await ShouldBeHubProblemAsync(response, status, detailSays);
        if (status == 405)
        {
            response.Content.Headers.Allow.Should().Contain(path.StartsWith("/hubs/room/negotiate", StringComparison.Ordinal) ? ["POST"] : ["GET", "POST", "DELETE"]);
        }
    }

    [Fact]
    public async Task AConnectionThatChangesTransportMidConnectionGetsAProblem()
    {
        var token = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        var connection = await NegotiateConnectionAsync(token);
        using var firstPoll = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token));
        firstPoll.StatusCode.Should().Be(HttpStatusCode.OK, "the first long poll answers at once and fixes the transport");

        using var eventStream = HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token);
        eventStream.Headers.Accept.ParseAdd("text/event-stream");
        using var upgrade = HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token);
        AddWebSocketUpgrade(upgrade);
        using var toEventStream = await Server.Anonymous.SendAsync(eventStream);
        using var toWebSocket = await Server.Anonymous.SendAsync(upgrade);

        await ShouldBeHubProblemAsync(toEventStream, 400, "transport");
        await ShouldBeHubProblemAsync(toWebSocket, 400, "transport");
        using var end = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Delete, $"/hubs/room?id={connection}", token));
        end.StatusCode.Should().Be(HttpStatusCode.Accepted, "a long-polling connection still ends with DELETE");
    }

    [Fact]
    public async Task ASecondEventStreamOnOneConnectionGetsAConflictProblem()
    {
        var token = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        var connection = await NegotiateConnectionAsync(token);
        using var first = HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token);
        first.Headers.Accept.ParseAdd("text/event-stream");
        using var second = HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token);
        second.Headers.Accept.ParseAdd("text/event-stream");

        using var open = await Server.Anonymous.SendAsync(first, HttpCompletionOption.ResponseHeadersRead);
        open.StatusCode.Should().Be(HttpStatusCode.OK);
        open.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream", "the stream itself passes through untouched");
        using var refused = await Server.Anonymous.SendAsync(second);

        await ShouldBeHubProblemAsync(refused, 409, "one at a time");
    }

    [Fact]
    public async Task APostOrDeleteOrSecondUpgradeOnAWebSocketConnectionGetsAProblem()
    {
        var token = await Server.TokenAsync(await Server.CreateRoomAsync(), "ann");
        var connection = await NegotiateConnectionAsync(token);
        using var socket = new ClientWebSocket();
        var url = new UriBuilder(Server.BaseUrl) { Scheme = "ws", Path = "/hubs/room", Query = $"id={connection}&access_token={token}" }.Uri;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await socket.ConnectAsync(url, timeout.Token);
        }

        using var post = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Post, $"/hubs/room?id={connection}", token));
        using var delete = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Delete, $"/hubs/room?id={connection}", token));
        using var upgrade = HubRequest(HttpMethod.Get, $"/hubs/room?id={connection}", token);
        AddWebSocketUpgrade(upgrade);
        using var secondUpgrade = await Server.Anonymous.SendAsync(upgrade);

        await ShouldBeHubProblemAsync(post, 405, "WebSocket");
        post.Content.Headers.Allow.Should().Equal("GET");
        await ShouldBeHubProblemAsync(delete, 400, "long-polling");
        await ShouldBeHubProblemAsync(secondUpgrade, 409, "one at a time");
        socket.State.Should().Be(WebSocketState.Open, "a refused request leaves the connection's WebSocket alone");
        socket.Abort();
    }

    [Fact]
    public async Task NegotiateAndEveryTransportStillWorkBesideTheRefusals()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        using var negotiate = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1", token));

        negotiate.StatusCode.Should().Be(HttpStatusCode.OK);
        negotiate.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await negotiate.Content.ReadAsByteArrayAsync();
        negotiate.Content.Headers.ContentLength.Should().Be(body.Length, "SignalR's own Content-Length is kept");
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("connectionToken").GetString().Should().NotBeNullOrEmpty();
        json.RootElement.GetProperty("availableTransports").EnumerateArray().Select(t => t.GetProperty("transport").GetString())
            .Should().Equal("WebSockets", "ServerSentEvents", "LongPolling");

        var version = 1L;
        foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
        {
            await using var client = await Server.ConnectAsync(token, o =>
            {
                o.Negotiate = true;
                o.ConfigureHttp = http => http.Transports = transport;
            });
            var joined = await client.InvokeAsync<JoinResult>("Join", room.Id, null);
            joined.Position.Version.Should().Be(version, $"{transport} joins");
            if (version == 1)
            {
                await client.NextEventShouldBeAsync(1); // ann's member event
            }

            var ack = await client.AdjustChoiceAsync(room, "cola", 1);
            (await client.NextEventShouldBeAsync(ack.Version)).Type.Should().Be(RoomEventTypes.Choice, $"{transport} delivers events as they happen");
            version = ack.Version;
        }
    }

    private static HttpRequestMessage HubRequest(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>The headers of a WebSocket upgrade (RFC 6455), so the server takes the request for one.</summary>
    private static void AddWebSocketUpgrade(HttpRequestMessage request)
    {
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
    }

    private async Task<string> NegotiateConnectionAsync(string token, string moreQuery = "")
    {
        using var response = await Server.Anonymous.SendAsync(HubRequest(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1" + moreQuery, token));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("connectionToken").GetString()!;
    }

    private static async Task ShouldBeHubProblemAsync(HttpResponseMessage response, int status, string detailSays)
    {
        ((int)response.StatusCode).Should().Be(status);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        mediaType.Should().Be("application/problem+json", "SignalR's text/plain refusal becomes a problem");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.InvalidArgument, "the framework's own refusals carry invalid_argument and keep their status (DESIGN §5)");
        problem.Status.Should().Be(status);
        problem.Detail.Should().Contain(detailSays);
    }
}
