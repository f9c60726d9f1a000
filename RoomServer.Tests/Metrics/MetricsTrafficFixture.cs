using System.Diagnostics;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// One real replica in Redis mode (its own process, so its /metrics holds only its own traffic) and a
/// known burst of traffic: two members joined (and still connected), three choices (the last with an opId),
/// two retries of that last choice answered from its opId (one with the same arguments, one whose arguments
/// no longer pass the hub's checks), one refused hub call, two hub calls SignalR could not bind, one refused
/// API call. Tests read the scrape taken once everything has shown.
/// </summary>
public sealed class MetricsTrafficFixture : IAsyncLifetime
{
    public const int Choices = 3;

    /// <summary>Retries of the last choice answered from its opId: the same write, so neither is counted again.</summary>
    public const int Replays = 2;

    private const string LastChoiceOpId = "last-choice";

    private readonly List<IAsyncDisposable> _members = [];
    private RedisServerProcess? _redis;

    public RoomServerProcess Server { get; private set; } = null!;

    /// <summary>The scrape before any traffic.</summary>
    public PrometheusText Idle { get; private set; } = null!;

    /// <summary>The scrape after the traffic, once its last effects have shown.</summary>
    public PrometheusText Busy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        Server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(("ConnectionStrings__Redis", _redis.Endpoint)));
        Idle = await ScrapeAsync();

        using var api = SecurityTestServer.Api(Server);
        var room = await SecurityTestServer.CreateRoomAsync(api);
        var ann = await HubTestClient.ConnectAsync(Server.BaseUrl, await SecurityTestServer.TokenAsync(api, room, "ann"));
        _members.Add(ann);
        await ann.InvokeAsync("Join", room, null);
        var bob = await HubTestClient.ConnectAsync(Server.BaseUrl, await SecurityTestServer.TokenAsync(api, room, "bob"));
        _members.Add(bob);
        await bob.InvokeAsync("Join", room, null);
        for (var quantity = 1; quantity <= Choices; quantity++)
        {
            await ann.InvokeAsync("SetChoice", room, "pizza", quantity, quantity == Choices ? LastChoiceOpId : null);
        }

        // Retries whose first reply was lost (DESIGN.md §2): answered from the opId, nothing applied.
        await ann.InvokeAsync("SetChoice", room, "pizza", Choices, LastChoiceOpId);
        await ann.InvokeAsync("SetChoice", room, "pizza", 1000, LastChoiceOpId);

        var refused = () => ann.InvokeAsync("SetChoice", room, "no-such-dish", 1, null);
        await refused.Should().ThrowAsync<HubErrorException>();
        // Two calls SignalR cannot bind (a missing argument, a method that does not exist): refused before the hub's filter.
        var unbound = () => ann.InvokeAsync("SetChoice", room, "pizza", 1);
        await unbound.Should().ThrowAsync<HubErrorException>();
        var unknown = () => ann.InvokeAsync("NoSuchMethod", room);
        await unknown.Should().ThrowAsync<HubErrorException>();
        using var anonymous = new HttpClient { BaseAddress = Server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        (await anonymous.GetAsync(new Uri($"/api/rooms/{room}", UriKind.Relative))).StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);

        // Bob hears the last choice (version 2 members + 3 choices = 5) once it has been fanned out.
        await bob.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == 2 + Choices, TimeSpan.FromSeconds(10));
        Busy = await ScrapeUntilAsync(s => s.Value("roomshare_delivery_lag_milliseconds_count") >= 2 + Choices
            && s.Value("roomshare_errors_total", ("code", "unauthorized")) >= 1);
    }

    public async Task DisposeAsync()
    {
        foreach (var member in _members)
        {
            await member.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    public async Task<PrometheusText> ScrapeAsync()
    {
        using var http = new HttpClient { BaseAddress = Server.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The exporter serves a short-lived cache: scrape until the traffic shows (bounded).</summary>
    private async Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> ready)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (ready(scrape) || clock.Elapsed > TimeSpan.FromSeconds(15))
            {
                return scrape;
            }

            await Task.Delay(200);
        }
    }
}
