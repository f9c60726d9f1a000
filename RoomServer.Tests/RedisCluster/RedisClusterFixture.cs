using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// Three real RoomServer replicas (<c>r1</c>..<c>r3</c>) on a private Redis Cluster (3 masters + 3
/// replicas), with the cluster's defaults: sharded pub/sub, one replica confirming each write. Members
/// connect to a replica directly (the tests choose which), so no nginx is needed. Fast ticks as in the
/// Cluster/ fixture. Every process is killed on dispose, by pid. A test class that breaks the cluster
/// (kills a master) takes its own instance.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public const int ReplicaCount = 3;
    public const int StoreTimeoutMilliseconds = 1000;
    public const int HistoryLength = 5000;

    private readonly List<RoomServerProcess> _replicas = [];

    public string ApiKey { get; } = "rcluster-api-key-" + Guid.NewGuid().ToString("N");

    public string SigningKey { get; } = "rcluster-signing-key-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    public RedisClusterProcess Redis { get; private set; } = null!;

    public IReadOnlyList<RoomServerProcess> Replicas => _replicas;

    /// <summary>Sends the API key; relative URIs go to r1, absolute ones where they say.</summary>
    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            Redis = await RedisClusterProcess.StartAsync();
            var starts = Enumerable.Range(1, ReplicaCount).Select(i => RoomServerProcess.StartAsync(Settings("r" + i.ToString(CultureInfo.InvariantCulture)))).ToList();
            try
            {
                await Task.WhenAll(starts);
            }
            finally
            {
                _replicas.AddRange(starts.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }

            Api = new HttpClient { BaseAddress = _replicas[0].BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
            Api.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        _replicas.Clear();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }

    /// <summary>The settings of every replica here; a test may start another replica with changes.</summary>
    public Dictionary<string, string> Settings(string replicaId) => new(WithoutLifts(replicaId).Concat(LiftedLimits.AsEnvironment()), StringComparer.Ordinal);

    // Writer loops measure the cluster, not the per-member write bucket or the API's rate limit (LiftedLimits).
    private Dictionary<string, string> WithoutLifts(string replicaId) => new(StringComparer.Ordinal)
    {
        ["ConnectionStrings__Redis"] = Redis.ConnectionString,
        ["RoomServer__ApiKeys__0"] = ApiKey,
        ["RoomServer__Jwt__SigningKey"] = SigningKey,
        ["RoomServer__ReplicaId"] = replicaId,
        ["RoomServer__PositionIntervalSeconds"] = "1",
        ["RoomServer__PresenceGraceSeconds"] = "3",
        ["RoomServer__StoreTimeoutMilliseconds"] = StoreTimeoutMilliseconds.ToString(CultureInfo.InvariantCulture),
        ["RoomServer__HistoryLength"] = HistoryLength.ToString(CultureInfo.InvariantCulture),
        ["RoomServer__Limits__HubCallsPerSecond"] = "1000",
    };

    /// <summary>One room on each master (rooms get random ids: created until every master has one, bounded).</summary>
    public async Task<IReadOnlyList<ShardRoom>> RoomOnEveryMasterAsync()
    {
        var byMaster = new Dictionary<int, ShardRoom>();
        for (var attempt = 0; attempt < 100 && byMaster.Count < 3; attempt++)
        {
            var room = await CreateRoomAsync();
            var master = await Redis.MasterOfAsync(Meta(room));
            byMaster.TryAdd(master.Port, new ShardRoom(room, master.Port));
        }

        byMaster.Should().HaveCount(3, "100 random room ids land on every one of the three masters");
        return [.. byMaster.Values.OrderBy(r => r.MasterPort)];
    }

    /// <summary>A room whose slot <paramref name="masterPort"/> serves (created until one lands there, bounded).</summary>
    public async Task<TestRoom> RoomOnMasterAsync(int masterPort)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var room = await CreateRoomAsync();
            if ((await Redis.MasterOfAsync(Meta(room))).Port == masterPort)
            {
                return room;
            }
        }

        throw new Xunit.Sdk.XunitException($"100 random room ids and none on the master at port {masterPort}");
    }

    public async Task<TestRoom> CreateRoomAsync()
    {
        using var response = await Api.PostAsJsonAsync("/api/rooms", new { name = "Sharded table", menu = ContractServer.Menu }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        return new TestRoom(created.RoomId, created.Epoch);
    }

    public async Task<string> TokenAsync(TestRoom room, string memberId)
    {
        using var response = await Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId, displayName = memberId.ToUpperInvariant(), role = "member" }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(ContractServer.Json))!.Token;
    }

    /// <summary>A member joined fresh on <paramref name="replica"/>.</summary>
    public async Task<RoomFollower> JoinAsync(TestRoom room, string memberId, RoomServerProcess replica)
    {
        var token = await TokenAsync(room, memberId);
        var follower = new RoomFollower(room, memberId, token, await HubTestClient.ConnectAsync(replica.BaseUrl, token));
        try
        {
            await follower.JoinAsync(resume: false);
            return follower;
        }
        catch
        {
            await follower.DisposeAsync();
            throw;
        }
    }

    public static string Meta(TestRoom room) => $"rs:{{{room.Id}}}:meta";

    /// <summary>The room's version, read on the master that serves it now.</summary>
    public async Task<long> RedisVersionAsync(TestRoom room) =>
        long.Parse((await (await Redis.MasterOfAsync(Meta(room))).ExecuteAsync("HGET", Meta(room), "version"))!, CultureInfo.InvariantCulture);

    public async Task<string> RedisEpochAsync(TestRoom room) =>
        (await (await Redis.MasterOfAsync(Meta(room))).ExecuteAsync("HGET", Meta(room), "epoch"))!;

    /// <summary>The room's events as its audit trail holds them, oldest first, read on the master that serves it now.</summary>
    public async Task<IReadOnlyList<RoomEvent>> RedisEventsAsync(TestRoom room)
    {
        var master = await Redis.MasterOfAsync(Meta(room));
        var reply = (object?[])(await RespClient.ExecuteAsync(master.Port, ["EVAL", AuditTrail.EventsScript, "1", AuditTrail.Key(room.Id), "-"], TimeSpan.FromSeconds(5)))!;
        return [.. reply.Select(e => JsonSerializer.Deserialize<RoomEvent>((string)e!, ContractServer.Json)!)];
    }

    /// <summary>GET /readyz of one replica: the status code and the body's reason.</summary>
    public async Task<(int Status, string? Detail)> ReadyAsync(RoomServerProcess replica)
    {
        try
        {
            using var response = await Api.GetAsync(new Uri(replica.BaseUrl, "readyz"));
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return ((int)response.StatusCode, body.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return (0, ex.Message);
        }
    }

    /// <summary>The tail of every replica's output, for failure messages.</summary>
    public string Logs(int lastChars = 3000) => string.Concat(_replicas.Select(r =>
        $"\n--- {r.ReplicaId} (pid {r.Pid}) ---\n" + (r.Output.Length > lastChars ? r.Output[^lastChars..] : r.Output)));

    /// <summary>Every replica's log lines holding <paramref name="text"/>, for failure messages.</summary>
    public string LogLines(string text) => string.Join('\n', _replicas.SelectMany(r =>
        r.Output.Split('\n').Where(line => line.Contains(text, StringComparison.Ordinal)).Select(line => $"{r.ReplicaId}: {line.Trim()}")));
}

/// <summary>A room and the port of the master that held it when the test began.</summary>
public sealed record ShardRoom(TestRoom Room, int MasterPort);
