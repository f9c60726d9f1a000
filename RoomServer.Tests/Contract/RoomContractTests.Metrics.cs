using System.Net;
using RoomShare.RoomServer.Tests.Metrics;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The RoomShare meter in Prometheus text at /metrics (DESIGN.md §9), in both modes: the instruments
/// move with real traffic. (Contract servers share the test process, so this compares before and
/// after; exact values per instrument are in Metrics/MetricsExportTests, on a replica of its own.)
/// </summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task MetricsMoveWithConnectionsDeliveriesWritesAndErrors()
    {
        var before = await ScrapeAsync();
        var (room, ann) = await RoomWithMemberAsync("ann");
        await using var _ = ann;
        await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.NextEventShouldBeAsync(2);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "no-such-dish", 1, null)).Should().Be("unknown_menu_item");

        var after = await ScrapeUntilAsync(now => Grew(before, now, "roomshare_errors_total", ("code", "unknown_menu_item"), ("edge", "hub"))
            && Grew(before, now, "roomshare_delivery_lag_milliseconds_count"));

        after.Value("roomshare_connections").Should().BeGreaterThanOrEqualTo(1, "ann is connected");
        after.Value("roomshare_rooms_joined").Should().BeGreaterThanOrEqualTo(1, "ann's room is joined");
        foreach (var (name, labels) in new (string, (string, string)[])[]
        {
            ("roomshare_writes_total", [("operation", "SetChoice")]),
            ("roomshare_errors_total", [("code", "unknown_menu_item"), ("edge", "hub")]),
            ("roomshare_room_messages_total", [("kind", "RoomEvent")]),
            ("roomshare_deliveries_total", []),
            ("roomshare_delivery_lag_milliseconds_count", []),
        })
        {
            Grew(before, after, name, labels).Should().BeTrue($"{name} counts this test's traffic");
        }

        after.Names.Should().Contain(["roomshare_slow_consumer_resyncs_total", "roomshare_delivery_lag_milliseconds_bucket"]);
    }

    private static bool Grew(PrometheusText before, PrometheusText after, string name, params (string, string)[] labels) =>
        (after.Value(name, labels) ?? 0) > (before.Value(name, labels) ?? 0);

    private async Task<PrometheusText> ScrapeAsync()
    {
        var response = await Server.Anonymous.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The exporter refreshes what it serves on a short cache; wait (bounded) for the counts to show.</summary>
    private async Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> ready)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (ready(scrape) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return scrape;
            }

            await Task.Delay(200);
        }
    }
}
