using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// SIGTERM drain with long-polling members (DESIGN.md §9): unlike a WebSocket, each of their polls and
/// sends is a new request, so the draining replica must keep serving those of the connections it holds
/// until its batch closer reaches them — they leave in staggered batches, not all at their next poll —
/// while everything that could open a connection there is refused with a 503 problem, which nginx
/// retries on another replica. The room hint puts every member on one replica, the victim; a writer on
/// another keeps writing throughout, and every member ends with every event once, in order. The
/// cluster's DrainSeconds (4) outlasts nginx's fail_timeout (2 s), so the 503s the members' own
/// reconnects get from the victim — which mark it failed in nginx's `roomserver` upstream, though not in
/// `roomserver_held`, which carries the held connections' polls — fall inside the drain.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class ReplicaDrainLongPollingTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private const int MemberCount = 8;
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(20);

    // DrainSeconds 4: a batch every 4 × 0.8 / 2 / 10 = 160 ms, one member a batch; all at once would be within a few ms.
    private static readonly TimeSpan MinimumSpread = TimeSpan.FromMilliseconds(500);

    // Past this, this process was held up long enough (a loaded box) for its clients to see several batches' closes at once.
    private static readonly TimeSpan ClientViewStall = MinimumSpread / 2;

    [Fact]
    public async Task LongPollingMembersOfADrainingReplicaAreClosedInBatchesAndResumeElsewhereWhileItRefusesNewConnections()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        var jars = new Dictionary<string, CookieContainer>(StringComparer.Ordinal);
        RoomFollower? writer = null;
        try
        {
            for (var i = 0; i < MemberCount; i++)
            {
                // Each member is its own browser: its own cookie jar, kept across its reconnect.
                var memberId = "lp" + i.ToString(CultureInfo.InvariantCulture);
                jars[memberId] = new CookieContainer();
                members.Add(await cluster.JoinAsync(room, memberId, configure: LongPolling(room, jars[memberId])));
            }

            var victimId = members[0].Replica;
            members.Should().OnlyContain(m => m.Replica == victimId, "the room hint sends every member of the room to one replica");
            var victim = cluster.Replica(victimId);

            writer = await cluster.JoinAsync(room, "writer", cluster.Replicas.First(r => r.ReplicaId != victimId).BaseUrl);
            // A call answered `unavailable` (a store call past its deadline on a busy box) is sent once more, as DESIGN §5 tells clients.
            var loop = new WriterLoop(writer.Client, room, "writer", "pizza", maxWrites: 1000, pacing: TimeSpan.FromMilliseconds(20), flowingAfter: 20, retryUnavailableOnce: true);
            var running = loop.RunAsync();
            await loop.Flowing.WaitAsync(TimeSpan.FromSeconds(15));

            var firstClients = members.ToDictionary(m => m.MemberId, m => m.Client, StringComparer.Ordinal);
            var versionAtTerm = await cluster.RedisVersionAsync(room);
            var sinceTerm = Stopwatch.StartNew();
            var closesSeen = 0;
            var stalledUntilTheLastClose = TimeSpan.Zero;
            await using var stallWatch = StallWatch.Start();
            var closes = members.Select(async m =>
            {
                var reason = await m.Client.Closed.WaitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 2));
                var at = sinceTerm.Elapsed;
                if (Interlocked.Increment(ref closesSeen) == MemberCount)
                {
                    stalledUntilTheLastClose = stallWatch.LongestStall; // what follows, the reconnects, does not time the closes
                }

                var writerAt = loop.Outcomes.LastOrDefault(o => o.Ack is not null)?.Ack?.Version ?? -1;
                m.DrainReceived();
                var since = m.Version;
                var result = await m.ReconnectAsync(cluster.BaseUrl, LongPolling(room, jars[m.MemberId]));
                return (Member: m, At: at, WriterAt: writerAt, Reason: reason, Since: since, Result: result);
            }).ToList();
            PosixSignal.Terminate(victim.Pid);

            while (await cluster.ReadyStatusAsync(victim) != 503)
            {
                sinceTerm.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a draining replica stops being ready at once");
                await Task.Delay(10);
            }

            // The victim's own answers (straight to it, not through nginx) to whatever could open a connection.
            var refusals = await RefusalsOfAsync(victim);
            var probedAfter = sinceTerm.Elapsed;

            var closed = (await Task.WhenAll(closes)).OrderBy(c => c.At).ToList();
            var stalled = stalledUntilTheLastClose;
            (await victim.WaitForExitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 3))).Should().BeTrue($"the replica exits within its drain time\n{cluster.Logs()}");
            var batches = DrainBatches.OfLastDrain(victim.Output);
            output.WriteLine($"SIGTERM to {victimId} with {MemberCount} long-polling members at v{versionAtTerm}; probes done after {probedAfter.TotalMilliseconds:0} ms; " +
                $"batches at [{string.Join(", ", batches.Select(b => b.At.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}] ms by the drain's clock; " +
                $"this process stalled up to {stalled.TotalMilliseconds:0} ms; closes seen:\n" +
                string.Join('\n', closed.Select(c => $"  {c.Member.MemberId} at {c.At.TotalMilliseconds:0} ms ({c.Reason ?? "clean"}, the writer at v{c.WriterAt}), " +
                    $"last event on it v{LastVersion(firstClients[c.Member.MemberId])}, resumed on {c.Result.Replica} from v{c.Since}")));

            // The drain's own account: eight batches of one member, spread over its time.
            batches.Should().HaveCount(MemberCount, $"8 members, one a batch\n{cluster.Logs()}");
            batches.Should().OnlyContain(b => b.Count == 1 && b.Of == MemberCount);
            (batches[^1].At - batches[0].At).Should().BeGreaterThan(MinimumSpread, "the drain spaces its batches 160 ms apart");

            foreach (var (probe, status, code) in refusals)
            {
                status.Should().Be(HttpStatusCode.ServiceUnavailable, $"a draining replica refuses {probe} with 503, which nginx retries elsewhere");
                code.Should().Be("unavailable", $"the refusal of {probe} is a problem with a §5 code");
            }

            // Closed by the drain, one batch at a time: each poll went on succeeding until the member's batch came.
            foreach (var c in closed)
            {
                c.Reason.Should().BeNull($"{c.Member.MemberId}'s connection was closed by the server (its poll ended), not broken by a refused poll\n{cluster.Logs()}");
            }

            // Their polls went on delivering events until their batch: a member closed a quarter of a second or more after
            // the first batch saw, on its first connection, an event the writer had not yet had acknowledged when the first
            // batch closed (it writes every 20 ms). A refused poll is caught above (a broken close); this catches polls held
            // unanswered through the drain, which would hold every member at about the version of the SIGTERM. One member
            // may lag: a test client's poll loop can stall for most of a second on a loaded 2-core box (seen once in CI: no
            // event for 630 ms, then closed cleanly and resumed with every event), which says nothing of the server.
            var later = closed.Where(c => c.At > closed[0].At + MinimumSpread / 2).ToList();
            var writerAtFirstClose = closed[0].WriterAt;
            // Only a member the writer had moved on for before it closed can lag: a writer stalled by the box gives the others nothing newer.
            var lagging = later.Where(c => c.WriterAt > writerAtFirstClose && LastVersion(firstClients[c.Member.MemberId]) <= writerAtFirstClose).ToList();
            lagging.Should().HaveCountLessThanOrEqualTo(1,
                $"the polls of members closed after the first batch (at {closed[0].At.TotalMilliseconds:0} ms, the writer acknowledged up to v{writerAtFirstClose}) kept delivering events until their own batch; " +
                $"lagging: {string.Join(", ", lagging.Select(c => $"{c.Member.MemberId} closed at {c.At.TotalMilliseconds:0} ms with v{LastVersion(firstClients[c.Member.MemberId])}"))}");

            // The closes' times are when this test's clients saw them. When this process was not held up, they show each member's close
            // reached it with its batch, not all at their next poll or the drain's end. A loaded box stalling this process for most of a
            // second (seen in CI: five closes seen within 6 ms at 970 ms, the writer two versions on) makes its clients see the batches
            // of the stall at once, which says nothing of the server: then the drain's account above stands alone.
            if (stalled < ClientViewStall)
            {
                later.Should().HaveCountGreaterThanOrEqualTo(3, $"the batches spread the closes the clients saw over the drain (8 members, one a batch, 160 ms apart)\n{cluster.Logs()}");
                (closed[^1].At - closed[0].At).Should().BeGreaterThan(MinimumSpread, $"members are closed in staggered batches, not all at their next poll\n{cluster.Logs()}");
            }

            foreach (var (m, _, _, _, since, result) in closed)
            {
                result.Replica.Should().NotBe(victimId, $"{m} negotiates again and lands on another replica");
                result.Missed.Should().NotBeNull($"{m}: history reaches back to v{since}");
                result.Missed!.Select(e => e.Version).Should().Equal(ClusterConsistencyTests.Range(since + 1, result.Position.Version));
            }

            // Twenty more acknowledged writes, then every member catches up with all of them.
            var target = loop.Acknowledged + 20;
            loop.StopWhen(outcomes => outcomes.Count(o => o.Ack is not null) >= target);
            await running.WaitAsync(TimeSpan.FromSeconds(30));
            loop.Outcomes.Should().OnlyContain(o => o.Ack != null, "the writer's replica never failed");
            var finalVersion = await cluster.RedisVersionAsync(room);
            var expected = await cluster.RedisChoicesAsync(room);
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
            foreach (var m in members)
            {
                m.Gaps.Should().BeEmpty($"{m} never saw a gap");
                m.AssertEveryConnectionReceivedInOrderOnce();
                m.Applied.Select(e => e.Version).Should().Equal(ClusterConsistencyTests.Range(m.FirstJoinVersion + 1, finalVersion), $"{m} applied every event once, in order");
                m.Choices.Should().BeEquivalentTo(expected, $"{m}'s state equals Redis");
            }
        }
        finally
        {
            await Task.WhenAll(members.Append(writer).OfType<RoomFollower>().Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Requests that could open a connection, or name one the victim does not hold: each one's status and problem code.</summary>
    private static async Task<List<(string Probe, HttpStatusCode Status, string? Code)>> RefusalsOfAsync(RoomServerProcess victim)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var hub = new Uri(victim.BaseUrl, "hubs/room");
        var unknown = "id=" + Guid.NewGuid().ToString("N");
        var probes = new List<(string Name, Func<HttpRequestMessage> Request)>
        {
            ("negotiate", () => new HttpRequestMessage(HttpMethod.Post, new Uri(hub + "/negotiate?negotiateVersion=1"))),
            ("negotiate with a room hint", () => new HttpRequestMessage(HttpMethod.Post, new Uri(hub + "/negotiate?negotiateVersion=1&room=r"))),
            ("a GET without id", () => new HttpRequestMessage(HttpMethod.Get, hub)),
            ("a GET with an empty id", () => new HttpRequestMessage(HttpMethod.Get, new Uri(hub + "?id="))),
            ("a poll of an unknown id", () => new HttpRequestMessage(HttpMethod.Get, new Uri(hub + "?" + unknown))),
            ("a send to an unknown id", () => new HttpRequestMessage(HttpMethod.Post, new Uri(hub + "?" + unknown)) { Content = new ByteArrayContent([0x1e]) }),
            ("a DELETE of an unknown id", () => new HttpRequestMessage(HttpMethod.Delete, new Uri(hub + "?" + unknown))),
            ("an event stream of an unknown id", () => WithAccept(new HttpRequestMessage(HttpMethod.Get, new Uri(hub + "?" + unknown)), "text/event-stream")),
            ("a WebSocket upgrade without id", () => AsUpgrade(new HttpRequestMessage(HttpMethod.Get, hub))),
            ("a WebSocket upgrade with an empty id", () => AsUpgrade(new HttpRequestMessage(HttpMethod.Get, new Uri(hub + "?id=")))),
            ("a WebSocket upgrade of an unknown id", () => AsUpgrade(new HttpRequestMessage(HttpMethod.Get, new Uri(hub + "?" + unknown)))),
        };

        var answers = new List<(string, HttpStatusCode, string?)>();
        foreach (var (name, request) in probes)
        {
            using var message = request();
            using var response = await http.SendAsync(message);
            string? code = null;
            if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                code = problem.RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
            }

            answers.Add((name, response.StatusCode, code));
        }

        return answers;
    }

    private static HttpRequestMessage WithAccept(HttpRequestMessage request, string accept)
    {
        request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    // An HTTP/1.1 WebSocket handshake, as a browser sends it.
    private static HttpRequestMessage AsUpgrade(HttpRequestMessage request)
    {
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.ParseAdd("websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        return request;
    }

    private static long LastVersion(HubTestClient client) =>
        client.Received("RoomEvent") is { Count: > 0 } events ? events[^1].GetProperty("version").GetInt64() : -1;

    // Long polling only, negotiating through nginx with the member's cookie jar and the room hint (DESIGN §7).
    private static Action<HubTestClientOptions> LongPolling(TestRoom room, CookieContainer jar) => o =>
    {
        o.Negotiate = true;
        o.Path = "/hubs/room?room=" + room.Id;
        o.ConfigureHttp = http =>
        {
            http.Transports = HttpTransportType.LongPolling;
            http.Cookies = jar;
        };
    };
}
