using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// Three replicas on one Redis behind nginx, nothing broken: a room's members on every replica (nginx
/// puts those it routes on the room's replica) and
/// every one of them sees the same events in the same order, exactly once; the official client
/// works through nginx; a member that stops reading delays nobody else. The tests share one
/// cluster (each makes its own room).
/// </summary>
[Trait("Suite", "Cluster")]
public sealed class ClusterConsistencyTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task MembersSpreadOverReplicasAndEveryMemberAppliesEveryEventOnceInVersionOrder()
    {
        const int MemberCount = 12;
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            // Joined one after the other: each join is a 'member' event the earlier members must see.
            // Half through nginx, which routes them by their tokens' room to one replica (DESIGN.md §7), and
            // half straight to each replica in turn, so the room's events cross replicas.
            for (var i = 0; i < MemberCount; i++)
            {
                var via = i % 2 == 0 ? null : cluster.Replicas[i / 2 % cluster.Replicas.Count].BaseUrl;
                members.Add(await cluster.JoinAsync(room, "m" + i.ToString("00", CultureInfo.InvariantCulture), via));
            }

            var spread = members.GroupBy(m => m.Replica).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            output.WriteLine($"members per replica: {string.Join(", ", spread.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}");
            spread.Keys.Should().BeEquivalentTo(cluster.Replicas.Select(r => r.ReplicaId), "the room has members on every replica");
            members.Where((_, i) => i % 2 == 0).Select(m => m.Replica).Distinct().Should().ContainSingle(
                "nginx sends the members of one room to one replica by the room their tokens name, with no hint in the URL");
            members.Select(m => m.FirstJoinVersion).Should().Equal(Enumerable.Range(1, MemberCount).Select(v => (long)v), "each fresh join adds one 'member' event");

            // Every member writes at once, on its own replica: 4 changes each, all of which change something.
            var writes = await Task.WhenAll(members.Select(async (m, i) =>
            {
                var first = 1 + (i % 3);
                var acks = new List<(string MenuId, string OpId, ChoiceAck Ack)>
                {
                    ("pizza", $"{m.MemberId}-1", await m.Client.SetChoiceAsync(room, "pizza", first, $"{m.MemberId}-1")),
                    ("cola", $"{m.MemberId}-2", await m.Client.AdjustChoiceAsync(room, "cola", 2, $"{m.MemberId}-2")),
                    ("pasta", $"{m.MemberId}-3", await m.Client.AdjustChoiceAsync(room, "pasta", 1, $"{m.MemberId}-3")),
                    ("pizza", $"{m.MemberId}-4", await m.Client.SetChoiceAsync(room, "pizza", first + 2, $"{m.MemberId}-4")),
                };
                return (Member: m, Acks: acks);
            }));

            var finalVersion = await cluster.RedisVersionAsync(room);
            finalVersion.Should().Be(MemberCount + (MemberCount * 4), "12 member events and 48 choice events");
            writes.SelectMany(w => w.Acks).Select(a => a.Ack.Version).Should().OnlyHaveUniqueItems("every acknowledged change got its own version");

            // Every ack is the event at its version in the room's history (Redis), whichever replica wrote it.
            var history = await cluster.RedisEventsAsync(room);
            history.Select(e => e.Version).Should().Equal(Enumerable.Range(1, (int)finalVersion).Select(v => (long)v));
            foreach (var (member, acks) in writes)
            {
                foreach (var (menuId, opId, ack) in acks)
                {
                    history[(int)ack.Version - 1].Should().BeEquivalentTo(
                        new { Type = RoomEventTypes.Choice, member.MemberId, MenuId = menuId, Quantity = (int?)ack.Quantity, OpId = opId },
                        $"the ack of {opId} names its event");
                }
            }

            // Every member, on every replica, applies exactly the events after its join, once, in order.
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
            var expectedChoices = await cluster.RedisChoicesAsync(room);
            expectedChoices.Should().HaveCount(MemberCount * 3);
            foreach (var m in members)
            {
                m.Gaps.Should().BeEmpty($"{m} never misses an event");
                m.Applied.Select(e => e.Version).Should().Equal(
                    Range(m.FirstJoinVersion + 1, finalVersion), $"{m} applies every event after its join exactly once, in order");
                m.Applied.Select(Describe).Should().Equal(
                    history.Where(e => e.Version > m.FirstJoinVersion).Select(Describe), $"{m} sees the same events as Redis's history");
                m.AssertEveryConnectionReceivedInOrderOnce();
                m.Choices.Should().BeEquivalentTo(expectedChoices, $"{m}'s state equals Redis");
            }

            // Every replica, asked directly, serves the same snapshot — Redis's.
            var snapshots = await Task.WhenAll(cluster.Replicas.Select(r => cluster.SnapshotAsync(room, r)));
            foreach (var snapshot in snapshots)
            {
                snapshot.Version.Should().Be(finalVersion);
                snapshot.Choices.ToDictionary(c => $"{c.MemberId}:{c.MenuId}", c => c.Quantity).Should().BeEquivalentTo(expectedChoices);
                snapshot.Should().BeEquivalentTo(snapshots[0], "every replica reads the same room");
                snapshot.Members.Should().OnlyContain(x => x.Online, "every member is connected");
            }

            // Nothing else arrived: after a barrier change, each member's next applied event is that one.
            var barrier = await members[0].Client.InvokeAsync<VersionAck>("Refresh", room.Id);
            barrier.Version.Should().Be(finalVersion + 1);
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(barrier.Version, FollowTimeout)));
            foreach (var m in members)
            {
                var last = m.Applied[^1];
                (last.Version, last.Type, last.By).Should().Be((barrier.Version, RoomEventTypes.Refresh, members[0].MemberId));
                m.Client.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt64()).Where(v => v > finalVersion)
                    .Should().Equal([barrier.Version], $"{m}: nothing arrived after the last write but the barrier");
            }
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task TheOfficialClientWorksThroughNginxWithNegotiationAndWithWebSocketsOnly()
    {
        const int DefaultModeRuns = 4;
        var runs = Enumerable.Range(0, DefaultModeRuns).Select(_ => "default").Append("websockets-skip").Append("websockets-skip").ToList();

        // Each run is a fresh node process: a fresh cookie jar, so nginx hashes it anew.
        var results = await Task.WhenAll(runs.Select(async mode =>
        {
            var room = await cluster.CreateRoomAsync();
            var result = await NodeScript.RunAsync("signalr-client.mjs", new Dictionary<string, string>
            {
                ["BASE_URL"] = cluster.BaseUrl.ToString().TrimEnd('/'),
                ["TOKEN"] = await cluster.TokenAsync(room, "node"),
                ["ROOM_ID"] = room.Id,
                ["MENU_ID"] = "pasta",
                ["MODE"] = mode,
            }, TimeSpan.FromSeconds(40));
            return (Mode: mode, Room: room, Result: result);
        }));

        foreach (var (mode, room, result) in results)
        {
            result.ExitCode.Should().Be(0, $"MODE={mode}: {result}");
            var report = result.LastJsonLine!.Value;
            output.WriteLine($"MODE={mode}: replica={report.GetProperty("replica").GetString()} transport={report.GetProperty("transport").GetString()}");
            report.GetProperty("transport").GetString().Should().Be("WebSockets", $"MODE={mode} upgrades through nginx");
            report.GetProperty("replica").GetString().Should().BeOneOf(cluster.Replicas.Select(r => r.ReplicaId));
            report.GetProperty("joinVersion").GetInt64().Should().Be(1);
            report.GetProperty("ackVersion").GetInt64().Should().Be(2);
            report.GetProperty("eventVersion").GetInt64().Should().Be(2);
            report.GetProperty("unknownMenuError").GetString().Should().Contain("HubException: unknown_menu_item:");
            (await cluster.RedisChoicesAsync(room)).Should().Equal(new Dictionary<string, int> { ["node:pasta"] = 2 });
        }

        var reached = results.Where(r => r.Mode == "default").Select(r => r.Result.LastJsonLine!.Value.GetProperty("replica").GetString()).ToList();
        output.WriteLine($"default mode reached: {string.Join(", ", reached)} ({reached.Distinct().Count()} distinct)");
    }

    [Fact]
    public async Task AMemberThatStopsReadingIsDroppedToAResyncAndDelaysNobody()
    {
        const int Notices = 250;
        var room = await cluster.CreateRoomAsync();
        var replica = cluster.Replicas[0];
        await using var normal = await cluster.JoinAsync(room, "normal", replica.BaseUrl);
        var slowToken = await cluster.TokenAsync(room, "slow");
        await using var slow = await SlowMember.JoinAsync(replica.BaseUrl, slowToken, room.Id, TimeSpan.FromSeconds(10));
        await normal.FollowUntilAsync(2, FollowTimeout); // the slow member's 'member' event
        normal.Replica.Should().Be(replica.ReplicaId);
        var rssBefore = ProcessMemory.RssBytes(replica.Pid);

        // ~15 MB of notices: more than the kernel buffers both ends of the slow member's socket can hold
        // (tcp_wmem caps the replica's send buffer at 4 MB), so the rest would wait in the replica —
        // until the bound (ClusterFixture.MaxPendingBytesPerConnection) drops the member to a resync.
        var payload = new string('x', ClusterFixture.MaxNoticePayloadBytes - 100);
        var clock = Stopwatch.StartNew();
        var received = new Dictionary<long, TimeSpan>();
        var reader = Task.Run(async () =>
        {
            // Bounded: reads until the last notice or throws on the event timeout.
            while (received.Count < Notices)
            {
                var e = await normal.Client.NextEventAsync(TimeSpan.FromSeconds(10));
                received[e.Version] = clock.Elapsed;
            }
        });

        var accepted = new Dictionary<long, TimeSpan>();
        for (var i = 0; i < Notices; i++)
        {
            var ack = await PostNoticeAsync(replica.BaseUrl, room, payload, $"flood-{i}");
            accepted[ack.Version] = clock.Elapsed;

            // Paced (~6 MB/s, as the chaos flood is): unpaced, a loaded box's scheduling alone can leave the
            // normal member a bound behind. The slow member, reading nothing, still overruns its buffers.
            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }

        var writesDone = clock.Elapsed;
        await reader.WaitAsync(TimeSpan.FromSeconds(15));
        var lastArrival = received.Values.Max();
        received.Keys.Order().Should().Equal(Range(3, Notices + 2), "the normal member receives every notice");
        var maxLag = accepted.Select(p => received[p.Key] - p.Value).Max();
        var rssAfter = ProcessMemory.RssBytes(replica.Pid);
        output.WriteLine(
            $"{Notices} notices ({Notices * payload.Length / 1024} KB) written in {writesDone.TotalMilliseconds:0} ms; normal member had all " +
            $"{(lastArrival - writesDone).TotalMilliseconds:0} ms after the last write; max lag {maxLag.TotalMilliseconds:0} ms; " +
            $"replica RSS {rssBefore / 1024 / 1024} → {rssAfter / 1024 / 1024} MB");

        // A stall shows as the 10 s read timeout above; 5 s only keeps a loaded machine's scheduling out of it.
        maxLag.Should().BeLessThan(TimeSpan.FromSeconds(5), "one slow member never stalls delivery to the others");
        await Poll.UntilAsync(() => TcpQueues.Of(replica.Port, slow.LocalPort) is null, TimeSpan.FromSeconds(10),
            "the replica closes the slow member's connection once its backlog passes the bound");
        cluster.Replica(replica.ReplicaId).Output.Should().Contain("closed for a resync");

        // The member resumes as a client does after any drop, with Join(since). Its ~15 MB backlog is far past
        // the bound it was dropped at, so it comes back as a snapshot: sent as one reply it would take the
        // store past its deadline on a loaded box (CI's did, three times in a row) and hold it in the replica.
        await using var resumed = await HubTestClient.ConnectAsync(replica.BaseUrl, slowToken);
        var rejoin = await resumed.InvokeAsync<JoinResult>("Join", room.Id, new RoomPosition(room.Epoch, 2));
        rejoin.Missed.Should().BeNull("a catch-up past MaxPendingBytesPerConnection is answered with a snapshot");
        rejoin.Snapshot!.Version.Should().Be(Notices + 2, "the snapshot stands where the room is");
    }

    // Straight to the replica: the test measures the replica's delivery, not nginx. A notice the store did
    // not confirm in time (`unavailable`, CI's loaded box) is retried with its Idempotency-Key, as DESIGN §5
    // tells a caller to, so it applies once; any other answer fails the test.
    private async Task<VersionAck> PostNoticeAsync(Uri replicaUrl, TestRoom room, string payload, string idempotencyKey)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(replicaUrl, $"api/rooms/{room.Id}/notices"))
            {
                Content = JsonContent.Create(new { kind = "load", payload }, options: ContractServer.Json),
            };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            using var response = await cluster.Api.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode == 503 && body.Contains(RoomErrorCodes.Unavailable, StringComparison.Ordinal) && attempt < 3)
            {
                output.WriteLine($"notice {idempotencyKey} answered unavailable (attempt {attempt}); retrying with its Idempotency-Key");
                continue;
            }

            ((int)response.StatusCode).Should().Be(202, $"notice {idempotencyKey} is accepted: {body}\n{cluster.Logs()}");
            return System.Text.Json.JsonSerializer.Deserialize<VersionAck>(body, ContractServer.Json)!;
        }
    }

    [Fact]
    public async Task AnOversizedApiBodyThroughNginxGetsAProblemWithPayloadTooLargeWhicheverLimitRefusesIt()
    {
        var room = await cluster.CreateRoomAsync();

        // Between nginx's old 64k and the app's 256 KiB: the app reads it and refuses the payload itself.
        var appRefused = await PostThroughNginxAsync($"/api/rooms/{room.Id}/notices", new { kind = "big", payload = new string('x', 100 * 1024) });

        // Over the app's limit, which nginx shares: nginx refuses it, in the app's words.
        var nginxRefused = await PostThroughNginxAsync($"/api/rooms/{room.Id}/notices", new { kind = "big", payload = new string('x', 300 * 1024) });

        foreach (var (status, mediaType, code) in new[] { appRefused, nginxRefused })
        {
            (status, mediaType, code).Should().Be((413, "application/problem+json", "payload_too_large"));
        }

        (await cluster.RedisVersionAsync(room)).Should().Be(0, "neither notice was published");
    }

    [Fact]
    public async Task TheHubEndpointsOwnRefusalsThroughNginxAreProblemsWithTheirStatus()
    {
        var room = await cluster.CreateRoomAsync();
        var token = await cluster.TokenAsync(room, "ann");

        // A cookie jar: nginx's affinity cookie keeps the negotiate and the polls on one replica.
        using var client = new HttpClient { BaseAddress = cluster.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var negotiate = await client.PostAsync("/hubs/room/negotiate?negotiateVersion=1", null);
        negotiate.EnsureSuccessStatusCode();
        var connection = (await negotiate.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("connectionToken").GetString();
        using var firstPoll = await client.GetAsync($"/hubs/room?id={connection}");
        firstPoll.EnsureSuccessStatusCode();
        using var toEventStream = new HttpRequestMessage(HttpMethod.Get, $"/hubs/room?id={connection}");
        toEventStream.Headers.Accept.ParseAdd("text/event-stream");

        using var transportChange = await client.SendAsync(toEventStream);
        using var send = new StringContent("{}");
        using var unknownConnection = await client.PostAsync("/hubs/room?id=no-such-connection", send);
        using var negotiateWithGet = await client.GetAsync("/hubs/room/negotiate?negotiateVersion=1");

        foreach (var (response, status) in new[] { (transportChange, 400), (unknownConnection, 404), (negotiateWithGet, 405) })
        {
            var (problemStatus, mediaType, code) = await ProblemOfAsync(response);
            (problemStatus, mediaType, code).Should().Be((status, "application/problem+json", RoomErrorCodes.InvalidArgument), response.RequestMessage!.RequestUri!.PathAndQuery);
        }

        negotiateWithGet.Content.Headers.Allow.Should().Equal("POST");
        using var end = await client.DeleteAsync($"/hubs/room?id={connection}");
        end.StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted, "the long-polling connection still ends with DELETE through nginx");
    }

    private async Task<(int Status, string? MediaType, string? Code)> PostThroughNginxAsync(string path, object body)
    {
        using var response = await cluster.Api.PostAsJsonAsync(path, body, ContractServer.Json);
        return await ProblemOfAsync(response);
    }

    /// <summary>The status, media type and problem code of an answer; its text in place of the code when it is not JSON.</summary>
    private static async Task<(int Status, string? MediaType, string? Code)> ProblemOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        try
        {
            using var problem = System.Text.Json.JsonDocument.Parse(text);
            return ((int)response.StatusCode, mediaType, problem.RootElement.TryGetProperty("code", out var code) ? code.GetString() : text);
        }
        catch (System.Text.Json.JsonException)
        {
            return ((int)response.StatusCode, mediaType, text);
        }
    }

    internal static IEnumerable<long> Range(long first, long last) =>
        first > last ? [] : Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i);

    internal static string Describe(RoomEvent e) =>
        $"v{e.Version} {e.Type} {e.MemberId} {e.MenuId} {e.Quantity} {e.OpId} {e.By} {e.Kind}";
}
