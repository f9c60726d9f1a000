using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Degraded mode (DESIGN.md §9): a replica whose subscriptions silently stop delivering — the
/// socket open, Redis answering its commands, nothing coming back on its subscription connection —
/// notices through its heartbeat: /readyz fails and says why, writes answer <c>unavailable</c> and
/// change nothing, and once it hears again its members catch up on what others wrote meanwhile.
/// </summary>
public sealed class DeafReplicaTests(DeafReplicaServer server) : IClassFixture<DeafReplicaServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AReplicaThatStopsHearingItsBackplaneFailsReadinessRefusesWritesAndCatchesUpOnceItHearsAgain()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await using var bob = await server.JoinAsync(room, "bob");
        (await ann.Client.SetChoiceAsync(room, "pizza", 1, "before")).Version.Should().Be(3);
        await bob.Client.SkipEventsThroughAsync(3);

        await using var sibling = await SiblingReplica.StartAsync(server);
        await using var cid = await sibling.JoinAsync(server, room, "cid");

        server.Proxy.StallSubscriptions = true;
        var reason = await ReadinessAsync(HttpStatusCode.ServiceUnavailable);
        reason.Should().Contain("deaf", "/readyz says what is wrong");

        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 7, "while-deaf")).Should().Be("unavailable");
        var state = await server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "locked" });
        state.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the HTTP API's writes are refused too");

        // A room refused before it reached Redis gives its place in the API key's room limit back.
        var placesBefore = await ApiKeyRoomPlacesAsync();
        for (var i = 0; i < 3; i++)
        {
            var create = await server.Api.PostAsJsonAsync("/api/rooms", new { name = "while deaf", menu = ContractServer.Menu });
            create.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        }

        (await ApiKeyRoomPlacesAsync()).Should().Be(placesBefore, "a create refused before sending holds no place of the key's limit");

        // Meanwhile a healthy replica's member writes: the deaf replica's members cannot hear it live.
        var elsewhere = await cid.Client.SetChoiceAsync(room, "cola", 2, "elsewhere");

        var snapshot = await server.SnapshotAsync(room);
        snapshot.Choices.Should().NotContain(c => c.MemberId == "ann" && c.Quantity == 7, "a refused write changed nothing");
        snapshot.State.Should().Be("open");
        snapshot.Version.Should().Be(elsewhere.Version, "only the healthy replica's write happened");

        server.Proxy.StallSubscriptions = false;
        (await ReadinessAsync(HttpStatusCode.OK)).Should().BeNull();

        // Hearing again, the replica tells its members the position, so they catch up what they missed.
        var position = await bob.Client.WaitForAsync("Position", p => p.GetProperty("version").GetInt64() >= elsewhere.Version, Bound);
        position.GetProperty("epoch").GetString().Should().Be(room.Epoch);
        var retried = await ann.Client.SetChoiceAsync(room, "pizza", 7, "while-deaf");
        retried.Version.Should().Be(elsewhere.Version + 1, "the refused write, retried with its opId, applies once");
        await bob.Client.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == retried.Version, Bound);
    }

    [Fact]
    public async Task AReplicaWhoseSubscriptionsStallFromTheStartIsDeafAndRefusesWrites()
    {
        // It never hears a beat and cannot even confirm the beat's SUBSCRIBE: the clock must still run.
        await using var proxy = SubscriptionStallProxy.Start(server.Redis.Port);
        proxy.StallSubscriptions = true;
        await using var stalled = await SiblingReplica.StartAsync(server, proxy.Endpoint, "stalled-from-start");
        using var anonymous = new HttpClient { BaseAddress = stalled.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        using var api = new HttpClient { BaseAddress = stalled.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        api.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);

        // Bounded: deaf three intervals (200 ms) after its first beat, however long the SUBSCRIBE waits.
        var deadline = DateTime.UtcNow + Bound;
        HttpResponseMessage create;
        while (true)
        {
            create = await api.PostAsJsonAsync("/api/rooms", new { name = "never heard", menu = ContractServer.Menu });
            if (create.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                break;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"a replica that never hears its backplane refuses writes (last {(int)create.StatusCode})");
            await Task.Delay(200);
        }

        (await create.Content.ReadAsStringAsync()).Should().Contain("unavailable");
        using var ready = await anonymous.GetAsync("/readyz");
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.Content.ReadAsStringAsync()).Should().Contain("deaf");
    }

    /// <summary>How many rooms every API key holds places for (rs:key:{id}:rooms, RoomServer__Limits__MaxRoomsPerApiKey).</summary>
    private async Task<long> ApiKeyRoomPlacesAsync()
    {
        var total = 0L;
        foreach (var key in await server.Redis.ExecuteListAsync("KEYS", "rs:key:*"))
        {
            total += long.Parse(await server.Redis.ExecuteAsync("ZCARD", key!) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        }

        return total;
    }

    /// <summary>Polls /readyz until it answers <paramref name="status"/>; returns its reason.</summary>
    private async Task<string?> ReadinessAsync(HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            using var response = await server.Anonymous.GetAsync("/readyz");
            if (response.StatusCode == status)
            {
                var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                return body.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"/readyz should answer {(int)status} (last {(int)response.StatusCode})");
            await Task.Delay(100);
        }
    }

    /// <summary>A second replica on the same Redis, connected directly (never deaf).</summary>
    private sealed class SiblingReplica : IAsyncDisposable
    {
        private readonly InProcessRoomServer _server;

        private SiblingReplica(InProcessRoomServer server) => _server = server;

        public Uri BaseUrl => _server.BaseUrl;

        public static Task<SiblingReplica> StartAsync(DeafReplicaServer deaf) => StartAsync(deaf, deaf.Redis.Endpoint, "sibling");

        /// <summary>A replica of the deaf one's room service, on <paramref name="redisEndpoint"/>, with its short heartbeat and deadline.</summary>
        public static Task<SiblingReplica> StartAsync(DeafReplicaServer deaf, string redisEndpoint, string replicaId)
        {
            var server = new InProcessRoomServer(
                new Dictionary<string, string>
                {
                    ["ConnectionStrings:Redis"] = redisEndpoint,
                    ["RoomServer:ApiKeys:0"] = deaf.ApiKey,
                    ["RoomServer:Jwt:SigningKey"] = deaf.SigningKey,
                    ["RoomServer:ReplicaId"] = replicaId,
                    ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
                    ["RoomServer:HeartbeatMilliseconds"] = DeafReplicaServer.HeartbeatMilliseconds,
                },
                FreePort.Next());
            server.StartServer();
            return Task.FromResult(new SiblingReplica(server));
        }

        /// <summary>Joins through this replica with a token the deaf one issued (same signing key).</summary>
        public async Task<JoinedMember> JoinAsync(DeafReplicaServer deaf, TestRoom room, string memberId)
        {
            var client = await HubTestClient.ConnectAsync(_server.BaseUrl, await deaf.TokenAsync(room, memberId));
            var result = await client.InvokeAsync<RoomShare.RoomServer.Rooms.JoinResult>("Join", room.Id, null);
            return new JoinedMember(memberId, client, result);
        }

        public async ValueTask DisposeAsync() => await _server.DisposeAsync();
    }
}

/// <summary>A scaled-mode contract server whose Redis connection runs through a <see cref="SubscriptionStallProxy"/>.</summary>
public sealed class DeafReplicaServer : ContractServer
{
    // Deaf after three missed beats: 1.5 s, long enough that a loaded test process's stall is not deafness
    // (200 ms gave 0.6 s), short against the tests' 20 s bound.
    internal const string HeartbeatMilliseconds = "500";

    public RedisServerProcess Redis { get; private set; } = null!;

    public SubscriptionStallProxy Proxy { get; private set; } = null!;

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        Redis = await RedisServerProcess.StartAsync();
        Proxy = SubscriptionStallProxy.Start(Redis.Port);
        return new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = Proxy.Endpoint,
            ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
            ["RoomServer:HeartbeatMilliseconds"] = HeartbeatMilliseconds,
        };
    }

    protected override async Task StopBackingServicesAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
