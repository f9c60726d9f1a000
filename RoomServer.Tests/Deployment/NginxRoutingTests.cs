using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// The shared nginx rules (nginx/roomshare-*.conf) through a real nginx in front of two tiny Kestrel
/// "replicas" that answer with their name: affinity cookie, spreading, WebSocket upgrade, failover.
/// Independent of the RoomServer itself.
/// </summary>
public sealed class NginxRoutingTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private NameReplicasBehindNginx? cluster;

    private NameReplicasBehindNginx Cluster => cluster ?? throw new InvalidOperationException("not started");

    private NginxProcess Nginx => Cluster.Nginx;

    private HttpClient Http => Cluster.Http;

    private IReadOnlyList<NameReplica> Replicas => Cluster.Replicas;

    public async Task InitializeAsync() => cluster = await NameReplicasBehindNginx.StartAsync(Timeout);

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task NewClientsGetAnAffinityCookieAndSpreadOverReplicas()
    {
        var reached = new HashSet<string>();
        var cookies = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await Http.PostAsync(new Uri("/hubs/room/negotiate?negotiateVersion=1", UriKind.Relative), null);

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var setCookie = response.Headers.GetValues("Set-Cookie").Should().ContainSingle().Subject;
            setCookie.Should().MatchRegex("^rs_affinity=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Lax$");
            cookies.Add(setCookie);
            reached.Add(await response.Content.ReadAsStringAsync());
        }

        cookies.Should().HaveCount(40, "every new client gets its own affinity value");
        reached.Should().BeEquivalentTo(["a", "b"], "40 new clients on one source address must spread over both replicas");
    }

    [Fact]
    public async Task AClientWithTheCookieAlwaysReachesTheSameReplicaAndGetsNoNewCookie()
    {
        var (cookie, first) = await NegotiateAsNewClientAsync();

        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1");
            request.Headers.Add("Cookie", cookie);
            using var response = await Http.SendAsync(request);

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Be(first);
            response.Headers.Contains("Set-Cookie").Should().BeFalse("the cookie is only set when the request had none");
            response.Headers.GetValues("X-Upstream").Should().ContainSingle().Which.Should().Be(Replica(first).BaseUrl.Authority);
        }
    }

    [Fact]
    public async Task WebSocketUpgradeThroughNginxReachesTheReplicaThatNegotiated()
    {
        // Try new clients until both replicas have been seen: each WebSocket must land where its negotiate did.
        var seen = new HashSet<string>();
        for (var i = 0; i < 40 && seen.Count < 2; i++)
        {
            var (cookie, negotiatedOn) = await NegotiateAsNewClientAsync();

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", cookie);
            socket.Options.CollectHttpResponseDetails = true;
            using var timeout = new CancellationTokenSource(Timeout);
            var url = new Uri($"ws://127.0.0.1:{Nginx.Port}/hubs/room?id=x&access_token=secret");
            await socket.ConnectAsync(url, timeout.Token);

            socket.HttpStatusCode.Should().Be(HttpStatusCode.SwitchingProtocols);
            (await NameReplica.ReceiveNameAsync(socket, timeout.Token)).Should().Be(negotiatedOn, "negotiate and connect must reach one replica");
            seen.Add(negotiatedOn);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }

        seen.Should().BeEquivalentTo(["a", "b"]);
    }

    [Fact]
    public async Task ClientsNamingOneRoomReachOneReplicaWhateverTheirCookiesAndTheirWebSocketsFollow()
    {
        // Every room: 8 new clients, half with another client's cookie, negotiate naming the room; all
        // reach one replica, and a WebSocket naming the room reaches it too. At least 12 rooms, and
        // more (at most 40) until both replicas have been seen: the ring moves with the random ports.
        var (otherCookie, _) = await NegotiateAsNewClientAsync();
        var roomsPerReplica = new Dictionary<string, int>();
        for (var room = 0; room < 40 && (room < 12 || roomsPerReplica.Count < 2); room++)
        {
            var reached = new HashSet<string>();
            for (var client = 0; client < 8; client++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/hubs/room/negotiate?negotiateVersion=1&room=R{room}");
                if (client % 2 == 1)
                {
                    request.Headers.Add("Cookie", otherCookie);
                }

                using var response = await Http.SendAsync(request);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                reached.Add(await response.Content.ReadAsStringAsync());
            }

            var replica = reached.Should().ContainSingle($"room R{room}'s clients all go where the room hashes").Subject;
            roomsPerReplica[replica] = roomsPerReplica.GetValueOrDefault(replica) + 1;

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", otherCookie);
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Nginx.Port}/hubs/room?id=x&access_token=secret&room=R{room}"), timeout.Token);
            (await NameReplica.ReceiveNameAsync(socket, timeout.Token)).Should().Be(replica, "the connect names the room, as its negotiate did");
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }

        roomsPerReplica.Keys.Should().BeEquivalentTo(["a", "b"], "rooms spread over the replicas");
    }

    [Fact]
    public async Task AnEmptyRoomHintIsNoHint()
    {
        // New clients with `room=` and nothing after it spread like clients without a hint (they hash
        // on their own request ids), and one with a cookie stays on its cookie's replica.
        var reached = new HashSet<string>();
        for (var i = 0; i < 40 && reached.Count < 2; i++)
        {
            using var response = await Http.PostAsync(new Uri("/hubs/room/negotiate?negotiateVersion=1&room=", UriKind.Relative), null);
            response.Headers.GetValues("Set-Cookie").Should().ContainSingle();
            reached.Add(await response.Content.ReadAsStringAsync());
        }

        reached.Should().BeEquivalentTo(["a", "b"], "an empty hint must not send every such client to one replica");

        var (cookie, first) = await NegotiateAsNewClientAsync();
        for (var i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1&room=");
            request.Headers.Add("Cookie", cookie);
            using var response = await Http.SendAsync(request);

            (await response.Content.ReadAsStringAsync()).Should().Be(first, "no room named: the cookie decides, as before");
        }
    }

    [Fact]
    public async Task ApiAndHealthResponsesSetNoAffinityCookie()
    {
        foreach (var path in new[] { "/api/rooms", "/healthz", "/readyz", "/openapi/v1.json", "/demo/rooms", "/" })
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));

            response.StatusCode.Should().Be(HttpStatusCode.OK, path);
            response.Headers.Contains("Set-Cookie").Should().BeFalse(path);
            (await response.Content.ReadAsStringAsync()).Should().BeOneOf("a", "b");
        }
    }

    /// <summary>The replicas route /metrics case-insensitively and with a trailing slash: nginx refuses every spelling.</summary>
    [Fact]
    public async Task MetricsAreNotReachableThroughNginxInAnySpelling()
    {
        foreach (var path in new[] { "/metrics", "/METRICS", "/Metrics", "/metrics/", "/metrics/x" })
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
        }

        Replicas.Sum(r => r.Requests).Should().Be(0, "no spelling reached a replica");
        using var other = await Http.GetAsync(new Uri("/metricsboard", UriKind.Relative));
        other.StatusCode.Should().Be(HttpStatusCode.OK, "only /metrics itself and what is below it are refused");
    }

    [Fact]
    public async Task AnApiBodyOverTheAppsLimitGetsAProblemJsonPayloadTooLargeFromNginx()
    {
        // One byte over Kestrel's MaxRequestBodySize (256 KiB), which nginx's client_max_body_size matches.
        using var body = new StringContent(new string('x', (256 * 1024) + 1), Encoding.UTF8, "application/json");

        using var response = await Http.PostAsync(new Uri("/api/rooms", UriKind.Relative), body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", "nginx answers as the app does, not with its HTML page");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("code").GetString().Should().Be("payload_too_large");
        problem.RootElement.GetProperty("status").GetInt32().Should().Be(413);
        Replicas.Sum(r => r.Requests).Should().Be(0, "nginx rejects it before any replica sees it");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json", "nginx answers like the API (DESIGN §5)");
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"code\":\"payload_too_large\"");
    }

    [Fact]
    public async Task AnApiRequestNoReplicaCanAnswerIsA503UnavailableProblem()
    {
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        using var response = await Http.GetAsync(new Uri("/api/rooms/r1", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json", "nginx answers like the API (DESIGN §5)");
        var body = await response.Content.ReadAsStringAsync();
        body.Should().Contain("\"code\":\"unavailable\"");
        body.Should().Contain("may have been applied", "a replica that timed out or died mid-request may have applied it")
            .And.Contain("Idempotency-Key", "so a retry must carry the same key");
    }

    [Fact]
    public async Task AHubRequestNoReplicaCanAnswerIsA503UnavailableProblem()
    {
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        using var negotiate = await Http.PostAsync(new Uri("/hubs/room/negotiate?negotiateVersion=1", UriKind.Relative), null);

        negotiate.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        negotiate.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json", "the hub path's refusals are problems too (DESIGN §5)");
        (await negotiate.Content.ReadAsStringAsync()).Should().Contain("\"code\":\"unavailable\"");
    }

    [Fact]
    public async Task AHubBodyOverTheLimitStillGetsThePayloadTooLargeProblem()
    {
        // The hub location has error pages of its own (no replica reachable), which replace the server's.
        using var body = new StringContent(new string('x', (256 * 1024) + 1), Encoding.UTF8, "text/plain");

        using var response = await Http.PostAsync(new Uri("/hubs/room?id=x", UriKind.Relative), body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"code\":\"payload_too_large\"");
        Replicas.Sum(r => r.Requests).Should().Be(0, "nginx rejects it before any replica sees it");
    }

    [Fact]
    public async Task AnApiBodyWithinTheAppsLimitReachesAReplicaWhichDecides()
    {
        // 100 KiB: over nginx's old 64k limit, under the app's; buffered in memory, not in a temp file.
        using var body = new StringContent(new string('x', 100 * 1024), Encoding.UTF8, "application/json");

        using var response = await Http.PostAsync(new Uri("/api/rooms", UriKind.Relative), body);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.Content.ReadAsStringAsync()).Should().BeOneOf("a", "b");
        Replicas.Sum(r => r.Requests).Should().Be(1, "the app, not nginx, answers a body it accepts");
    }

    [Fact]
    public async Task ClientsOfADeadReplicaAreMovedToASurvivor()
    {
        // Find a client pinned to b, then stop b: the same cookie must now reach a, without an error.
        string cookie;
        var attempts = 0;
        do
        {
            attempts.Should().BeLessThan(40, "some new client must hash to b");
            attempts++;
            (cookie, var replica) = await NegotiateAsNewClientAsync();
            if (replica == "b")
            {
                break;
            }
        }
        while (true);

        await Replica("b").DisposeAsync();

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?negotiateVersion=1");
            request.Headers.Add("Cookie", cookie);
            using var response = await Http.SendAsync(request);

            response.StatusCode.Should().Be(HttpStatusCode.OK, "a refused connection is retried on the next replica");
            (await response.Content.ReadAsStringAsync()).Should().Be("a");
        }
    }

    [Fact]
    public async Task ReloadPointsNginxAtTheNewReplicaSet()
    {
        await Nginx.ReloadAsync([Replica("b").BaseUrl]);

        using var fresh = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = Nginx.BaseUrl, Timeout = Timeout };
        for (var i = 0; i < 10; i++)
        {
            using var response = await fresh.PostAsync(new Uri("/hubs/room/negotiate?negotiateVersion=1", UriKind.Relative), null);

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Be("b", "after the reload only b is upstream");
        }
    }

    private Task<(string Cookie, string Replica)> NegotiateAsNewClientAsync() => Cluster.NegotiateAsNewClientAsync();

    private NameReplica Replica(string name) => Cluster.Replica(name);
}
