using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// A member's connection limits on one replica (README "Limits"): how many connections it may hold
/// open, joined or not, and how fast it may start new ones (a negotiate, or a WebSocket opened
/// without one). Without them one token negotiating in a loop, or opening sockets it never joins
/// with, grew a replica without bound.
/// </summary>
public abstract partial class LimitTests
{
    [Fact]
    public async Task AConnectionPastTheMembersOpenConnectionsIsRefusedUntilOneCloses()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        var open = new List<HubTestClient>();
        try
        {
            // None of them joins: Join's own limit (two joined connections here) never sees them.
            for (var i = 0; i < LimitSettings.MaxOpenConnectionsPerMember; i++)
            {
                open.Add(await Server.ConnectAsync(token));
            }

            // A connection takes its place as the hub's OnConnected runs, just after its handshake has answered the
            // client; a call answered on each (here an unknown method's error) means every place is counted, so the
            // next request is refused at once rather than let through a race and closed after its handshake.
            foreach (var client in open)
            {
                var call = () => client.InvokeAsync("NoSuchMethod");
                await call.Should().ThrowAsync<HubErrorException>("an answer on an open connection, not a closed one");
            }

            var connect = () => Server.ConnectAsync(token);
            (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            using (var negotiate = await NegotiateAsync(token))
            {
                await ShouldBeRateLimitedAsync(negotiate, $"this member has {LimitSettings.MaxOpenConnectionsPerMember} connections open on this replica");
            }

            // The open ones still work, and another member is not affected.
            await open[0].InvokeAsync("Join", room.Id, null);
            await using var bob = await Server.JoinAsync(room, "bob");

            // Closing one gives its place back (once the server has seen the close).
            await open[^1].DisposeAsync();
            open.RemoveAt(open.Count - 1);
            HubTestClient? again = null;
            await Poll.UntilAsync(
                async () => (again = await TryConnectAsync(token)) is not null,
                TimeSpan.FromSeconds(5),
                "a connection after one of the member's connections closed");
            open.Add(again!);
            (await again!.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Epoch.Should().Be(room.Epoch, "the new connection holds the freed place and works");
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AMemberStartingConnectionsFasterThanItsBucketIsRateLimitedWithRetryAfter()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "cy");

        // Each negotiate starts a connection (the server keeps it waiting for its transport).
        var started = System.Diagnostics.Stopwatch.StartNew();
        var sinceRefusal = new System.Diagnostics.Stopwatch();
        var accepted = 0;
        HttpResponseMessage refused;
        while (true)
        {
            var response = await NegotiateAsync(token);
            if (response.StatusCode != HttpStatusCode.OK || accepted == 3 * LimitSettings.MemberConnectBurst)
            {
                refused = response;
                sinceRefusal.Restart();
                break;
            }

            response.Dispose();
            accepted++;
        }

        using (refused)
        {
            AcceptedShouldBeTheBurst(accepted, started.Elapsed);
            await ShouldBeRateLimitedAsync(
                refused,
                $"at most {LimitSettings.MemberConnectsPerSecond} a second per replica, bursts of {LimitSettings.MemberConnectBurst}");
            refused.Headers.RetryAfter.Should().NotBeNull("a rate limit says when to retry");
            refused.Headers.RetryAfter!.Delta.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
        }

        // A WebSocket opened without a negotiate draws on the same bucket: only the tokens that came back since the
        // refusal get through (one a second, and one more for the part of a second already refilling then; a
        // loaded box may take seconds to get here), counted until the last attempt began. A bucket of its own would
        // let a whole burst through at once.
        var lastAttemptAfter = TimeSpan.Zero;
        var opened = await StartUntilRefusedAsync(
            () =>
            {
                lastAttemptAfter = sinceRefusal.Elapsed;
                return ConnectAndCloseAsync(token);
            },
            LimitSettings.MemberConnectBurst);
        var cameBack = 1 + (int)(lastAttemptAfter.TotalSeconds * LimitSettings.MemberConnectsPerSecond);
        opened.Should().BeLessThanOrEqualTo(cameBack, $"the WebSocket shares the negotiate's bucket ({lastAttemptAfter.TotalMilliseconds:F0} ms from its refusal to the last attempt)");

        // Another member of the room has a bucket of its own.
        using var other = await NegotiateAsync(await Server.TokenAsync(room, "dee"));
        other.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ANegotiatedConnectionDrawsOnTheBucketOnceNotAgainForItsWebSocket()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "eve");

        // Negotiate + WebSocket each time, one open at a time. Counted twice, half the burst would pass.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var accepted = 0;
        while (accepted < 3 * LimitSettings.MemberConnectBurst)
        {
            HubTestClient client;
            try
            {
                client = await Server.ConnectAsync(token, o => o.Negotiate = true);
            }
            catch (HubConnectException refused) when (refused.StatusCode == HttpStatusCode.TooManyRequests)
            {
                break;
            }

            await client.DisposeAsync();
            accepted++;
        }

        AcceptedShouldBeTheBurst(accepted, started.Elapsed);
    }

    [Theory]
    [InlineData("POST", "hubs/room/Negotiate")]
    [InlineData("POST", "hubs/room/negotiate/")]
    [InlineData("POST", "HUBS/ROOM/negotiate")]
    [InlineData("WS", "/hubs/room/")]
    [InlineData("WS", "/hubs/room?id=")]
    [InlineData("WS", "/Hubs/Room?ID=")]
    public async Task EveryFormOfAConnectionStartDrawsOnTheBucket(string kind, string path)
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "fay");
        var started = System.Diagnostics.Stopwatch.StartNew();

        var accepted = kind == "POST"
            ? await StartUntilRefusedAsync(() => NegotiateOnceAsync(token, path), 3 * LimitSettings.MemberConnectBurst)
            : await StartUntilRefusedAsync(() => ConnectAndCloseAsync(token, path), 3 * LimitSettings.MemberConnectBurst);

        AcceptedShouldBeTheBurst(accepted, started.Elapsed);
    }

    [Fact]
    public async Task ATokenWithoutAValidRoomOrMemberOpensNoConnection()
    {
        var token = TestTokens.Mint(Server.SigningKey, "not a room!", "ann", "Ann");

        using var negotiate = await NegotiateAsync(token);
        negotiate.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var problem = await negotiate.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be(RoomErrorCodes.Unauthorized);
        problem.GetProperty("detail").GetString().Should().Contain("member token");
        var connect = () => Server.ConnectAsync(token);
        (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ConnectionsStartedAtOnceNeverPassTheLimitAndGiveEveryPlaceBack()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "gus");
        var limit = LimitSettings.MaxOpenConnectionsPerMember;

        // Two more than the limit at once: some pass the HTTP check together, and the hub's count decides.
        var attempts = await Task.WhenAll(Enumerable.Range(0, limit + 2).Select(_ => TryConnectAsync(token)));
        var connected = attempts.OfType<HubTestClient>().ToList();
        try
        {
            var working = 0;
            foreach (var client in connected)
            {
                try
                {
                    await client.InvokeAsync("Leave", room.Id);
                    working++;
                }
                catch (InvalidOperationException)
                {
                    // closed right after its handshake: over the limit
                }
            }

            working.Should().BeInRange(1, limit, "at most the limit stays open");
        }
        finally
        {
            foreach (var client in connected)
            {
                await client.DisposeAsync();
            }
        }

        // All closed: every place comes back (none leaked), as the bucket refills.
        var reopened = new List<HubTestClient>();
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    if (await TryConnectAsync(token) is { } client)
                    {
                        reopened.Add(client);
                    }

                    return reopened.Count == limit;
                },
                TimeSpan.FromSeconds(20),
                () => $"{reopened.Count} of {limit} connections again after all were closed");
        }
        finally
        {
            foreach (var client in reopened)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Starts connections one after another (each closed at once) until one is refused with 429, at most <paramref name="cap"/>; how many got through.</summary>
    private static async Task<int> StartUntilRefusedAsync(Func<Task> start, int cap)
    {
        var accepted = 0;
        while (accepted < cap)
        {
            try
            {
                await start();
            }
            catch (Exception ex) when (ex is HubConnectException { StatusCode: HttpStatusCode.TooManyRequests }
                or HttpRequestException { StatusCode: HttpStatusCode.TooManyRequests })
            {
                break;
            }

            accepted++;
        }

        return accepted;
    }

    private async Task ConnectAndCloseAsync(string token, string path = "/hubs/room")
    {
        var client = await Server.ConnectAsync(token, o => o.Path = path);
        await client.DisposeAsync();
    }

    private async Task NegotiateOnceAsync(string token, string path = "hubs/room/negotiate")
    {
        using var response = await NegotiateAsync(token, path);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The burst passed, and no more than the bucket refilled meanwhile (one a second here).</summary>
    private static void AcceptedShouldBeTheBurst(int accepted, TimeSpan elapsed)
    {
        var refilled = (int)Math.Ceiling(elapsed.TotalSeconds * LimitSettings.MemberConnectsPerSecond);
        accepted.Should().BeInRange(
            LimitSettings.MemberConnectBurst,
            LimitSettings.MemberConnectBurst + refilled,
            $"the member's bucket holds {LimitSettings.MemberConnectBurst} and refilled {refilled} in {elapsed.TotalSeconds:0.0} s");
    }

    private async Task<HttpResponseMessage> NegotiateAsync(string token, string path = "hubs/room/negotiate")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path + "?negotiateVersion=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Anonymous.SendAsync(request);
    }

    private static async Task ShouldBeRateLimitedAsync(HttpResponseMessage response, string namingTheLimit)
    {
        response.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("code").GetString().Should().Be(RoomErrorCodes.RateLimited);
        problem.RootElement.GetProperty("detail").GetString().Should().Contain(namingTheLimit);
    }

    /// <summary>A connection that the server keeps; null when it refused it.</summary>
    private async Task<HubTestClient?> TryConnectAsync(string token)
    {
        try
        {
            return await Server.ConnectAsync(token);
        }
        catch (HubConnectException refused) when (refused.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return null;
        }
    }
}
