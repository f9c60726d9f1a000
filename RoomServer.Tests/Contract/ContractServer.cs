using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// One RoomServer for a contract test class, in one storage mode. Every test makes its own rooms, so
/// tests share the server but never data. Settings are small so behaviour shows quickly: a short
/// replay length (HistoryLength) and audit trail, a one-second position tick, a two-second presence grace.
/// </summary>
public abstract class ContractServer : IAsyncLifetime, IDisposable
{
    public const int HistoryLength = 20;
    public const int AuditLength = 120;
    public const int MaxQuantity = 90; // not the default 99: a snapshot stating a hard-coded default fails (RoomContractTests.MaxQuantity)
    public const int HubCallsPerSecond = 100;
    public const int MaxNoticePayloadBytes = 4096;
    public const int IdempotencyWindow = 30;
    public const int PresenceGraceSeconds = 2;
    public const string ReplicaId = "contract";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static readonly MenuItem[] Menu =
    [
        new("pizza", "Margherita", 1150),
        new("pasta", "Carbonara", 1380),
        new("cola", "Cola", 300),
    ];

    private InProcessRoomServer? _server;

    public string ApiKey { get; } = "test-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>A second configured API key: another caller (whose Idempotency-Keys are its own).</summary>
    public string OtherApiKey { get; } = "other-api-key-" + Guid.NewGuid().ToString("N");

    /// <summary>A third configured API key, with a comma in it (one header line carries it as it is).</summary>
    public string CommaApiKey { get; } = "comma-api-key," + Guid.NewGuid().ToString("N");

    public string SigningKey { get; } = "test-signing-key-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("the server has not started");

    /// <summary>The in-process server's services, for a test that must set up state the API cannot (many dead letters).</summary>
    public IServiceProvider Services => _server?.Services ?? throw new InvalidOperationException("the server has not started");

    /// <summary>An HTTP client that sends the API key.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>An HTTP client that sends <see cref="OtherApiKey"/>.</summary>
    public HttpClient OtherApi { get; private set; } = null!;

    /// <summary>An HTTP client with no credentials.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer:ApiKeys:0"] = ApiKey,
            ["RoomServer:ApiKeys:1"] = OtherApiKey,
            ["RoomServer:ApiKeys:2"] = CommaApiKey,
            ["RoomServer:Jwt:SigningKey"] = SigningKey,
            ["RoomServer:ReplicaId"] = ReplicaId,
            ["RoomServer:HistoryLength"] = HistoryLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:AuditLength"] = AuditLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:MaxQuantity"] = MaxQuantity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:PositionIntervalSeconds"] = "1",
            ["RoomServer:PresenceGraceSeconds"] = PresenceGraceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:Limits:HubCallsPerSecond"] = HubCallsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:IdempotencyWindow"] = IdempotencyWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RoomServer:Limits:MaxNoticePayloadBytes"] = MaxNoticePayloadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        // The suite's bursts (20 devices of one member, 50 members) measure the contract, not the limits (Limits/ does).
        foreach (var (key, value) in LiftedLimits.AsConfiguration())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in await StartBackingServicesAsync())
        {
            settings[key] = value;
        }

        _server = new InProcessRoomServer(settings, FreePort.Next(), ConfigureServices);
        _server.StartServer();
        Api = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        Api.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        OtherApi = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        OtherApi.DefaultRequestHeaders.Add("X-Api-Key", OtherApiKey);
        Anonymous = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        await WaitUntilReadyAsync();
    }

    /// <summary>
    /// A scaled-mode replica is ready once its backplane heartbeat has come back (a few ms after
    /// start); the suite starts from a ready server, as nginx's users would.
    /// </summary>
    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        HttpStatusCode last;
        do
        {
            using var response = await Anonymous.GetAsync("/readyz");
            last = response.StatusCode;
            if (last == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new InvalidOperationException($"the contract server did not become ready within 15 s (/readyz {(int)last})");
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        OtherApi?.Dispose();
        Anonymous?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await StopBackingServicesAsync();
    }

    public void Dispose()
    {
        _server?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts what the mode needs (e.g. redis-server) and returns the settings that select it.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync();

    protected abstract Task StopBackingServicesAsync();

    /// <summary>Runs after the server's own service registrations; a test server decorates one of them here.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async Task<TestRoom> CreateRoomAsync(int? ttlMinutes = null)
    {
        var response = await Api.PostAsJsonAsync("/api/rooms", new { name = "Table 7", menu = Menu, ttlMinutes }, Json);
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>(Json))!;
        return new TestRoom(created.RoomId, created.Epoch);
    }

    public async Task<string> TokenAsync(TestRoom room, string memberId, string role = "member", string? displayName = null)
    {
        var response = await Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId, displayName = displayName ?? memberId.ToUpperInvariant(), role }, Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(Json))!.Token;
    }

    /// <summary>Connects the official client, as a well-behaved member.</summary>
    public Task<HubTestClient> ConnectAsync(string token) => HubTestClient.ConnectAsync(BaseUrl, token);

    public Task<HubTestClient> ConnectAsync(string token, Action<HubTestClientOptions> configure) => HubTestClient.ConnectAsync(BaseUrl, token, configure);

    /// <summary>Connects the raw client, for a test that must misbehave on the wire.</summary>
    public Task<RawHubClient> ConnectRawAsync(string token) => RawHubClient.ConnectAsync(BaseUrl, token);

    /// <summary>Connects a member and joins the room fresh.</summary>
    public async Task<JoinedMember> JoinAsync(TestRoom room, string memberId, string role = "member")
    {
        var client = await ConnectAsync(await TokenAsync(room, memberId, role));
        var result = await client.InvokeAsync<JoinResult>("Join", room.Id, null);
        return new JoinedMember(memberId, client, result);
    }

    public async Task<RoomSnapshot> SnapshotAsync(TestRoom room)
    {
        var response = await Api.GetAsync($"/api/rooms/{room.Id}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<RoomSnapshot>(Json))!;
    }
}

public sealed record TestRoom(string Id, string Epoch);

public sealed record JoinedMember(string MemberId, HubTestClient Client, JoinResult Joined) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
