using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A whole scaled deployment on loopback: one redis-server (AOF on), three real RoomServer replicas
/// (<c>r1</c>..<c>r3</c>, Production) and nginx in front with the production routing rules. Ticks are
/// fast so failover shows quickly: a position every second, presence lease 3 s, grace 3 s (wide enough that a reconnect on a loaded machine never flickers), a store
/// deadline of 1 s. Every process is killed on dispose. A test class that breaks things (kills a
/// replica, stops Redis) takes its own instance through <c>IClassFixture</c>. A subclass may start
/// more before the replicas (<see cref="BeforeReplicasAsync"/>) and change their settings (<see cref="Configure"/>).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const int ReplicaCount = 3;
    public const int PositionIntervalSeconds = 1;
    public const int PresenceGraceSeconds = 3;
    public const int StoreTimeoutMilliseconds = 1000;
    public const int MaxNoticePayloadBytes = 60_000;
    public const int MaxPendingBytesPerConnection = 256 * 1024;
    public const int DrainSeconds = 4;

    /// <summary>The presence lease the replicas derive from the interval: three missed ticks.</summary>
    public static readonly TimeSpan PresenceLease = TimeSpan.FromSeconds(3 * PositionIntervalSeconds);

    private readonly List<RoomServerProcess> _replicas = [];

    public string ApiKey { get; } = "cluster-api-key-" + Guid.NewGuid().ToString("N");

    public string SigningKey { get; } = "cluster-signing-key-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    public RedisServerProcess Redis { get; private set; } = null!;

    public IReadOnlyList<RoomServerProcess> Replicas => _replicas;

    public NginxProcess Nginx { get; private set; } = null!;

    /// <summary>nginx: what clients use.</summary>
    public Uri BaseUrl => Nginx.BaseUrl;

    /// <summary>
    /// Sends the API key; no cookie jar, so every request hashes on its own request id like a new
    /// client. Relative URIs go through nginx; absolute ones reach a replica directly.
    /// </summary>
    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            Redis = await RedisServerProcess.StartAsync();
            await BeforeReplicasAsync();
            var starts = Enumerable.Range(1, ReplicaCount).Select(i => RoomServerProcess.StartAsync(Settings("r" + i.ToString(CultureInfo.InvariantCulture)))).ToList();
            try
            {
                await Task.WhenAll(starts);
            }
            finally
            {
                // Keep every replica that did start, so DisposeAsync kills it even when another failed.
                _replicas.AddRange(starts.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }

            Nginx = await NginxProcess.StartAsync(_replicas.Select(r => r.BaseUrl).ToList());
            Api = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = Nginx.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
            Api.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public virtual async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Nginx is not null)
        {
            await Nginx.DisposeAsync();
        }

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

    public RoomServerProcess Replica(string replicaId) =>
        _replicas.SingleOrDefault(r => r.ReplicaId == replicaId)
        ?? throw new InvalidOperationException($"No replica '{replicaId}' (have {string.Join(", ", _replicas.Select(r => r.ReplicaId))})");

    public async Task<TestRoom> CreateRoomAsync()
    {
        using var response = await Api.PostAsJsonAsync("/api/rooms", new { name = "Cluster table", menu = ContractServer.Menu }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        return new TestRoom(created.RoomId, created.Epoch);
    }

    public async Task<string> TokenAsync(TestRoom room, string memberId, string role = "member")
    {
        using var response = await Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId, displayName = memberId.ToUpperInvariant(), role }, ContractServer.Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(ContractServer.Json))!.Token;
    }

    /// <summary>
    /// A member that has joined fresh: through nginx by default (its token names the room, so nginx
    /// puts a room's members on one replica; members of different rooms spread), or straight to <paramref name="via"/>;
    /// <paramref name="configure"/> sets the client's transport, headers or cookies.
    /// </summary>
    public async Task<RoomFollower> JoinAsync(TestRoom room, string memberId, Uri? via = null, Action<HubTestClientOptions>? configure = null)
    {
        var token = await TokenAsync(room, memberId);
        var client = await HubTestClient.ConnectAsync(via ?? BaseUrl, token, configure);
        var follower = new RoomFollower(room, memberId, token, client);
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

    /// <summary>GET /api/rooms/{id} from one replica directly (bypassing nginx).</summary>
    public async Task<RoomSnapshot> SnapshotAsync(TestRoom room, RoomServerProcess replica)
    {
        using var response = await Api.GetAsync(new Uri(replica.BaseUrl, $"api/rooms/{room.Id}"));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<RoomSnapshot>(ContractServer.Json))!;
    }

    /// <summary>The room's choices straight from Redis: <c>HGETALL rs:{id}:choices</c>, field "member:menu".</summary>
    public async Task<IReadOnlyDictionary<string, int>> RedisChoicesAsync(TestRoom room)
    {
        var flat = await Redis.ExecuteListAsync("HGETALL", $"rs:{{{room.Id}}}:choices");
        var choices = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Count; i += 2)
        {
            choices[flat[i]!] = int.Parse(flat[i + 1]!, CultureInfo.InvariantCulture);
        }

        return choices;
    }

    public async Task<long> RedisVersionAsync(TestRoom room) =>
        long.Parse((await Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:meta", "version"))!, CultureInfo.InvariantCulture);

    /// <summary>The room's events as its audit trail holds them, oldest first, parsed.</summary>
    public async Task<IReadOnlyList<RoomEvent>> RedisEventsAsync(TestRoom room)
    {
        var entries = await Redis.ExecuteListAsync("EVAL", AuditTrail.EventsScript, "1", AuditTrail.Key(room.Id), "-");
        return entries.Select(e => System.Text.Json.JsonSerializer.Deserialize<RoomEvent>(e!, ContractServer.Json)!).ToList();
    }

    /// <summary>The remembered result of an opId (<c>HGET rs:{id}:ops member:opId</c> = "version:quantity"), or null.</summary>
    public Task<string?> RedisOpResultAsync(TestRoom room, string memberId, string opId) =>
        Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:ops", $"{memberId}:{opId}");

    public async Task<IReadOnlyList<string>> RedisPresenceFieldsAsync(TestRoom room) =>
        (await Redis.ExecuteListAsync("HKEYS", $"rs:{{{room.Id}}}:presence")).Select(f => f!).ToList();

    /// <summary>GET /readyz of one replica: the status code, or 0 when it does not answer.</summary>
    public async Task<int> ReadyStatusAsync(RoomServerProcess replica)
    {
        try
        {
            using var response = await Api.GetAsync(new Uri(replica.BaseUrl, "readyz"));
            return (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>Polls (every 100 ms, bounded) until every live replica's /readyz answers <paramref name="status"/>.</summary>
    public async Task WaitForReadyStatusAsync(int status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            // Read afresh each round: a replica that exits meanwhile drops out rather than keeping its last status.
            var last = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var replica in _replicas.Where(r => !r.HasExited))
            {
                last[replica.ReplicaId] = await ReadyStatusAsync(replica);
            }

            if (last.Values.All(s => s == status))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"/readyz did not answer {status} on every replica within {timeout.TotalSeconds:0.#}s: {string.Join(", ", last.Select(p => $"{p.Key}={p.Value}"))}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>The tail of every replica's output, for failure messages.</summary>
    public string Logs(int lastChars = 3000)
    {
        var text = new StringBuilder();
        foreach (var replica in _replicas)
        {
            var output = replica.Output;
            text.Append(CultureInfo.InvariantCulture, $"\n--- {replica.ReplicaId} (pid {replica.Pid}, {(replica.HasExited ? "exited" : "running")}) ---\n");
            text.Append(output.Length > lastChars ? output[^lastChars..] : output);
        }

        return text.ToString();
    }

    /// <summary>Runs once Redis is up, before any replica starts (e.g. a proxy the replicas will use).</summary>
    protected virtual Task BeforeReplicasAsync() => Task.CompletedTask;

    /// <summary>Adds to or overrides one replica's environment before it starts.</summary>
    protected virtual void Configure(string replicaId, Dictionary<string, string> settings)
    {
    }

    private Dictionary<string, string> Settings(string replicaId)
    {
        var settings = DefaultSettings(replicaId);

        // Writer loops and bursts of concurrent writes measure the cluster, not the limits (LiftedLimits).
        foreach (var (key, value) in LiftedLimits.AsEnvironment())
        {
            settings[key] = value;
        }

        Configure(replicaId, settings);
        return settings;
    }

    private Dictionary<string, string> DefaultSettings(string replicaId) => new(StringComparer.Ordinal)
    {
        ["ConnectionStrings__Redis"] = Redis.Endpoint,
        ["RoomServer__ApiKeys__0"] = ApiKey,
        ["RoomServer__Jwt__SigningKey"] = SigningKey,
        ["RoomServer__ReplicaId"] = replicaId,
        ["RoomServer__PositionIntervalSeconds"] = PositionIntervalSeconds.ToString(CultureInfo.InvariantCulture),
        ["RoomServer__PresenceGraceSeconds"] = PresenceGraceSeconds.ToString(CultureInfo.InvariantCulture),
        ["RoomServer__StoreTimeoutMilliseconds"] = StoreTimeoutMilliseconds.ToString(CultureInfo.InvariantCulture),

        // Writer loops and bursts of concurrent writes must measure the cluster, not the per-connection rate limit.
        ["RoomServer__Limits__HubCallsPerSecond"] = "1000",

        // Big notices (nginx and the replicas accept bodies up to 256 KiB) let the slow-member test outgrow every kernel buffer.
        ["RoomServer__Limits__MaxNoticePayloadBytes"] = MaxNoticePayloadBytes.ToString(CultureInfo.InvariantCulture),

        // A slow member is dropped to a resync once this much waits for it (the default is 1 MiB).
        ["RoomServer__Limits__MaxPendingBytesPerConnection"] = MaxPendingBytesPerConnection.ToString(CultureInfo.InvariantCulture),

        // A short drain keeps the SIGTERM test quick (the default is 20 s).
        ["RoomServer__DrainSeconds"] = DrainSeconds.ToString(CultureInfo.InvariantCulture),
    };
}
