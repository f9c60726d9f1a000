using System.Net;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>The RoomShare meter in Prometheus text at /metrics (DESIGN.md §9).</summary>
public abstract partial class RoomContractTests
{
    [Fact]
    public async Task MetricsCountConnectionsDeliveriesWritesAndErrorsInPrometheusText()
    {
        var (room, ann) = await RoomWithMemberAsync("ann");
        await using var _ = ann;
        await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.NextEventShouldBeAsync(2);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "no-such-dish", 1, null)).Should().Be("unknown_menu_item");

        var text = await ScrapeUntilAsync(t => t.Contains("roomshare_deliveries_total{", StringComparison.Ordinal)
            && t.Contains("code=\"unknown_menu_item\"", StringComparison.Ordinal));

        foreach (var name in new[]
        {
            "roomshare_connections", "roomshare_rooms_joined", "roomshare_room_messages_total", "roomshare_deliveries_total",
            "roomshare_delivery_lag_milliseconds_bucket", "roomshare_writes_total",
        })
        {
            text.Should().Contain(name, $"/metrics exports {name}");
        }

        text.Should().MatchRegex("roomshare_errors_total\\{[^}]*code=\"unknown_menu_item\"[^}]*\\} [1-9]");
        text.Should().MatchRegex("roomshare_writes_total\\{[^}]*operation=\"SetChoice\"[^}]*\\} [1-9]");
    }

    /// <summary>The exporter refreshes what it serves on a short cache; wait (bounded) for the counts to show.</summary>
    private async Task<string> ScrapeUntilAsync(Func<string, bool> ready)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var response = await Server.Anonymous.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var text = await response.Content.ReadAsStringAsync();
            if (ready(text) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return text;
            }

            await Task.Delay(200);
        }
    }
}
