using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Replicas (real processes) on one redis-server — or one embedded replica — with webhook endpoints
/// pointing at test receivers, and fast retry settings. Helpers create a room with choices, change its
/// state and read the operator API. Kills every process it started on dispose.
/// </summary>
public sealed class OrderHandoffStage : IAsyncDisposable
{
    public const string Secret = "receiver-secret-0123456789abcdef";

    private readonly List<RoomServerProcess> _replicas = [];

    private OrderHandoffStage(RedisServerProcess? redis, WebhookReceiver receiver)
    {
        Redis = redis;
        Receiver = receiver;
    }

    public string ApiKey { get; } = "orders-api-key-" + Guid.NewGuid().ToString("N");

    public string SigningKey { get; } = "orders-signing-key-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    public RedisServerProcess? Redis { get; }

    public WebhookReceiver Receiver { get; }

    public IReadOnlyList<RoomServerProcess> Replicas => _replicas;

    /// <summary>
    /// Starts redis (unless embedded), the receiver (unless <paramref name="startReceiver"/> is false: then
    /// connections to it are refused) and <paramref name="replicas"/> replicas with these webhook settings.
    /// </summary>
    public static async Task<OrderHandoffStage> StartAsync(
        int replicas = 1, bool embedded = false, bool startReceiver = true, IReadOnlyDictionary<string, string>? webhooks = null)
    {
        var redis = embedded ? null : await RedisServerProcess.StartAsync();
        var stage = new OrderHandoffStage(redis, new WebhookReceiver(Secret));
        try
        {
            if (startReceiver)
            {
                await stage.Receiver.StartAsync();
            }

            var starts = Enumerable.Range(1, replicas).Select(i => RoomServerProcess.StartAsync(stage.Settings("o" + i.ToString(CultureInfo.InvariantCulture), webhooks))).ToList();
            try
            {
                await Task.WhenAll(starts);
            }
            finally
            {
                stage._replicas.AddRange(starts.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }

            return stage;
        }
        catch
        {
            await stage.DisposeAsync();
            throw;
        }
    }

    public Dictionary<string, string> Settings(string replicaId, IReadOnlyDictionary<string, string>? webhooks)
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = ApiKey,
            ["RoomServer__Jwt__SigningKey"] = SigningKey,
            ["RoomServer__ReplicaId"] = replicaId,
            ["RoomServer__StoreTimeoutMilliseconds"] = "2000",
            ["RoomServer__Webhooks__Endpoints__0__Url"] = Receiver.Url,
            ["RoomServer__Webhooks__Endpoints__0__Secret"] = Secret,
            ["RoomServer__Webhooks__TimeoutSeconds"] = "2",
            ["RoomServer__Webhooks__MaxAttempts"] = "8",
            ["RoomServer__Webhooks__RetryBaseDelayMilliseconds"] = "200",
            ["RoomServer__Webhooks__RetryMaxDelayMilliseconds"] = "2000",
            ["RoomServer__Webhooks__ClaimTimeoutSeconds"] = "3",
            ["RoomServer__Webhooks__PollIntervalMilliseconds"] = "200",
            ["RoomServer__Webhooks__SweepIntervalSeconds"] = "5",
        };
        if (Redis is not null)
        {
            settings["ConnectionStrings__Redis"] = Redis.Endpoint;
        }

        foreach (var (key, value) in webhooks ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public HttpClient Api(RoomServerProcess replica)
    {
        var http = new HttpClient { BaseAddress = replica.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return http;
    }

    /// <summary>A room with a menu and nobody in it yet (its order records have no choices).</summary>
    public async Task<string> CreateRoomAsync(RoomServerProcess replica)
    {
        using var api = Api(replica);
        var created = await api.PostAsJsonAsync("/api/rooms", new
        {
            name = "Table 7",
            menu = new[] { new { id = "pizza", name = "Pizza", priceMinor = 1250 }, new { id = "cola", name = "Cola", priceMinor = 300 } },
        });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("roomId").GetString()!;
    }

    /// <summary><paramref name="count"/> rooms made by <see cref="CreateRoomAsync"/>, one after the other.</summary>
    public async Task<List<string>> CreateRoomsAsync(RoomServerProcess replica, int count)
    {
        var rooms = new List<string>();
        for (var i = 0; i < count; i++)
        {
            rooms.Add(await CreateRoomAsync(replica));
        }

        return rooms;
    }

    /// <summary>A room whose two members chose dishes (through the hub), so the order has members, choices and totals.</summary>
    public async Task<string> CreateRoomWithOrderAsync(RoomServerProcess replica)
    {
        var roomId = await CreateRoomAsync(replica);
        foreach (var (member, name, menuId, quantity) in new[] { ("ann", "Ann", "pizza", 2), ("bob", "Bob", "cola", 3) })
        {
            await using var client = await HubTestClient.ConnectAsync(replica.BaseUrl, TestTokens.Mint(SigningKey, roomId, member, name));
            await client.InvokeAsync("Join", roomId, null);
            await client.InvokeAsync("SetChoice", roomId, menuId, quantity, null);
        }

        return roomId;
    }

    public async Task<long> SetStateAsync(RoomServerProcess replica, string roomId, string state)
    {
        using var api = Api(replica);
        var response = await api.PutAsJsonAsync($"/api/rooms/{roomId}/state", new { state });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
    }

    public async Task<JsonElement> GetJsonAsync(RoomServerProcess replica, string path)
    {
        using var api = Api(replica);
        var response = await api.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls <c>GET /api/rooms/{id}/order</c> until <paramref name="done"/> holds (bounded), returning that answer.</summary>
    public Task<JsonElement> WaitForOrderAsync(RoomServerProcess replica, string roomId, Func<JsonElement, bool> done, TimeSpan timeout) =>
        Poll.ForAsync(() => GetJsonAsync(replica, $"/api/rooms/{roomId}/order"), done, timeout,
            last => $"the order status of {roomId} getting there: {last}");

    /// <summary>The replica (consumer) holding the room's pending record, or null when none is pending (scaled mode).</summary>
    public async Task<string?> HolderAsync(string roomId)
    {
        const string Holder = "local p = redis.call('XPENDING', KEYS[1], 'webhooks', '-', '+', 1)[1]; if p then return p[2] end return false";
        return await (Redis ?? throw new InvalidOperationException("embedded mode has no Redis")).ExecuteAsync("EVAL", Holder, "1", $"rs:{{{roomId}}}:orders");
    }

    public static IEnumerable<JsonElement> Deliveries(JsonElement order) =>
        order.GetProperty("records").EnumerateArray().SelectMany(r => r.GetProperty("deliveries").EnumerateArray());

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await Receiver.DisposeAsync();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
