using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// Room affinity from the member token (nginx/roomshare-http.conf, DESIGN.md §7): tokens as
/// <see cref="TokenIssuer"/> mints them name their room in the JOSE header, and nginx routes a room's
/// members to one replica by it without a room hint (the header itself: Units/TokenIssuerHeaderTests). Through a
/// real nginx in front of two stand-in replicas.
/// </summary>
public sealed class NginxTokenRoutingTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly string SigningKey = new('k', 32);

    private readonly TokenIssuer issuer = new(
        Options.Create(new RoomServerOptions { Jwt = { SigningKey = SigningKey } }), TimeProvider.System);

    private NameReplicasBehindNginx? cluster;

    private NameReplicasBehindNginx Cluster => cluster ?? throw new InvalidOperationException("not started");

    private HttpClient Http => Cluster.Http;

    public async Task InitializeAsync() => cluster = await NameReplicasBehindNginx.StartAsync(Timeout);

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task MembersOfOneRoomReachOneReplicaByTheirTokensWithoutAHint()
    {
        // Every room: 8 new clients' negotiates with their own tokens and no hint, half with another client's
        // cookie, half sending the token as a bearer header (the .NET client; the JavaScript client's
        // negotiate and polls), half as access_token (where a browser's WebSocket carries it). All reach one
        // replica, and a member's WebSocket and long poll follow. At least 12 rooms, and more (at most 40)
        // until both replicas have been seen.
        var (otherCookie, _) = await Cluster.NegotiateAsNewClientAsync();
        var roomsPerReplica = new Dictionary<string, int>();
        for (var room = 0; room < 40 && (room < 12 || roomsPerReplica.Count < 2); room++)
        {
            var roomId = RoomIds.NewRoomId();
            var reached = new HashSet<string>();
            for (var client = 0; client < 8; client++)
            {
                reached.Add(await NegotiateAsync(Issue(roomId, $"m{client}"), asBearer: client % 4 < 2, cookie: client % 2 == 1 ? otherCookie : null));
            }

            var replica = reached.Should().ContainSingle($"room {roomId}'s members all go where its tokens hash").Subject;
            roomsPerReplica[replica] = roomsPerReplica.GetValueOrDefault(replica) + 1;
            (await ConnectAsync(Issue(roomId, "m9"), hint: null, otherCookie)).Should().Be(replica, "a member's WebSocket reaches the room's replica");
            (await PollAsync(Issue(roomId, "m10"))).Should().Be(replica, "a long poll (an id, no upgrade; a lower-case scheme) reaches it too");
            (await NegotiateWithEncodedDotsAsync(Issue(roomId, "m11"))).Should().Be(replica, "a token whose dots came percent-encoded reaches it too");
        }

        roomsPerReplica.Keys.Should().BeEquivalentTo(["a", "b"], "rooms spread over the replicas");
    }

    [Fact]
    public async Task ATokenWithoutTheRoomInItsHeaderRoutesAsBeforeByTheHintElseTheClient()
    {
        // A token minted elsewhere ({"alg":"HS256","typ":"JWT"}, the room only in its payload) has the same
        // header in every room: hashed, it would send all such clients to one replica. New clients with it
        // spread instead, and with the room hint they follow the hint.
        var roomless = MintWithoutRoomHeader(RoomIds.NewRoomId());
        var reached = new HashSet<string>();
        for (var i = 0; i < 40 && reached.Count < 2; i++)
        {
            reached.Add(await NegotiateAsync(roomless, asBearer: i % 2 == 0, cookie: null));
        }

        reached.Should().BeEquivalentTo(["a", "b"], "a token that names no room in its header does not pin its clients together");

        for (var room = 0; room < 6; room++)
        {
            var hinted = new HashSet<string>();
            for (var client = 0; client < 4; client++)
            {
                hinted.Add(await NegotiateAsync(roomless, asBearer: client % 2 == 0, cookie: null, hint: $"R{room}"));
            }

            hinted.Should().ContainSingle("the hint routes a token without the room in its header");
        }

        // Garbage where a token should be is no token either.
        var spread = new HashSet<string>();
        for (var i = 0; i < 40 && spread.Count < 2; i++)
        {
            spread.Add(await NegotiateAsync("eyJhbGciOiJIUzI1NiIsInJvb20iOi", asBearer: i % 2 == 0, cookie: null));
        }

        spread.Should().BeEquivalentTo(["a", "b"], "a header segment with no token after it is not a room");
    }

    [Fact]
    public async Task TheTokensRoomOutranksAHintNamingAnother()
    {
        // The replica serves the token's room whatever the URL says, so the token decides. Rooms are tried
        // until one's token and a hint naming another room hash to different replicas (at most 40).
        var decided = 0;
        for (var room = 0; room < 40 && decided < 3; room++)
        {
            var token = Issue(RoomIds.NewRoomId(), "m1");
            var byToken = await NegotiateAsync(token, asBearer: true, cookie: null);
            var hint = $"other{room}";
            var byHint = await NegotiateAsync(MintWithoutRoomHeader("x"), asBearer: true, cookie: null, hint: hint);
            if (byToken == byHint)
            {
                continue;
            }

            decided++;
            (await NegotiateAsync(token, asBearer: room % 2 == 0, cookie: null, hint: hint)).Should().Be(byToken);
            (await ConnectAsync(token, hint, cookie: null)).Should().Be(byToken);
        }

        decided.Should().Be(3, "40 rooms give three whose token and hint part ways");
    }

    private string Issue(string roomId, string memberId) => issuer.Issue(roomId, memberId, memberId.ToUpperInvariant(), RoomClaims.MemberRole, 0).Token;

    /// <summary>A token minted elsewhere: the same claims, the room only in the payload (the standard header).</summary>
    private static string MintWithoutRoomHeader(string roomId) => TestTokens.Mint(SigningKey, roomId, "m1", "M1");

    /// <summary>A negotiate carrying <paramref name="token"/> as the .NET client (bearer) or in the query; the replica it reached.</summary>
    private async Task<string> NegotiateAsync(string token, bool asBearer, string? cookie, string? hint = null)
    {
        var query = "negotiateVersion=1" + (asBearer ? "" : "&access_token=" + token) + (hint is null ? "" : "&room=" + hint);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/room/negotiate?" + query);
        if (asBearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A long poll of a held connection (<c>id</c>, no upgrade) with a lower-case <c>bearer</c> scheme; the replica it reached.</summary>
    private async Task<string> PollAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hubs/room?id=x");
        request.Headers.TryAddWithoutValidation("Authorization", "bearer " + token);
        using var response = await Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>
    /// A negotiate whose access_token has its dots written as <c>%2E</c>, over a raw socket: .NET's
    /// <see cref="Uri"/> would decode them before sending. The replica it reached.
    /// </summary>
    private async Task<string> NegotiateWithEncodedDotsAsync(string token)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(IPAddress.Loopback, Cluster.Nginx.Port, timeout.Token);
        await using var stream = client.GetStream();
        var request = $"POST /hubs/room/negotiate?negotiateVersion=1&access_token={token.Replace(".", "%2E", StringComparison.Ordinal)} HTTP/1.1\r\n" +
            "Host: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync(timeout.Token);
        response.Should().StartWith("HTTP/1.1 200");
        var body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        // The stand-in replica's one-line answer, in a single chunk when nginx passes it on chunked.
        return response.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? body.Split("\r\n")[1] : body;
    }

    /// <summary>A WebSocket with the token in the query, as a browser opens it; the replica it reached.</summary>
    private async Task<string> ConnectAsync(string token, string? hint, string? cookie)
    {
        using var socket = new ClientWebSocket();
        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }

        using var timeout = new CancellationTokenSource(Timeout);
        var hintQuery = hint is null ? "" : "&room=" + hint;
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Cluster.Nginx.Port}/hubs/room?id=x&access_token={token}{hintQuery}"), timeout.Token);
        var replica = await NameReplica.ReceiveNameAsync(socket, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        return replica;
    }
}
