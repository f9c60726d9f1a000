using System.Text.Json;
using System.Text.RegularExpressions;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// /metrics of a real replica after known traffic (DESIGN.md §9): every RoomShare instrument by its
/// exported name, with the values that traffic must produce; the runtime and ASP.NET Core meters; and
/// the sample Grafana dashboard and Prometheus config in deploy/ naming only what is exported.
/// On a replica process of its own, not in the in-process contract suite: OpenTelemetry listens to
/// meters process-wide and keeps the first instrument of a name it sees, so several servers in one
/// test process shadow each other's RoomShare instruments (and lose them when the first one stops).
/// </summary>
public sealed partial class MetricsExportTests(MetricsTrafficFixture fixture) : IClassFixture<MetricsTrafficFixture>
{
    /// <summary>The RoomShare meter's instruments as Prometheus names them (a histogram by its _bucket series).</summary>
    public static readonly string[] RoomShareMetrics =
    [
        "roomshare_connections", "roomshare_rooms_joined", "roomshare_room_messages_total", "roomshare_deliveries_total",
        "roomshare_delivery_lag_milliseconds_bucket", "roomshare_redis_duration_milliseconds_bucket", "roomshare_errors_total",
        "roomshare_slow_consumer_resyncs_total", "roomshare_writes_total", "roomshare_webhook_deliveries_total",
    ];

    private PrometheusText Idle => fixture.Idle;

    private PrometheusText Busy => fixture.Busy;

    [Fact]
    public void AnIdleReplicaExportsItsGaugesAndResyncsAtZero()
    {
        Idle.Value("roomshare_connections").Should().Be(0);
        Idle.Value("roomshare_rooms_joined").Should().Be(0);
        Idle.Value("roomshare_slow_consumer_resyncs_total").Should().Be(0);
        foreach (var outcome in RoomShare.RoomServer.Orders.WebhookMetrics.Outcomes)
        {
            Idle.Value("roomshare_webhook_deliveries_total", ("outcome", outcome)).Should().Be(0, $"an alert on {outcome} has a series from start-up");
        }
    }

    [Fact]
    public void ConnectionsAndJoinedRoomsCountWhatIsOpenNow()
    {
        Busy.Value("roomshare_connections").Should().Be(2, "ann and bob are still connected");
        Busy.Value("roomshare_rooms_joined").Should().Be(1, "both are in one room");
    }

    [Fact]
    public void EventsHeardDeliveredAndTheirLagCountEveryEvent()
    {
        const int events = 2 + MetricsTrafficFixture.Choices; // two member events, three choices
        Busy.Value("roomshare_room_messages_total", ("kind", "RoomEvent")).Should().Be(events, "each event is heard once per replica");
        Busy.Value("roomshare_room_messages_total", ("kind", "Presence")).Should().BeGreaterThanOrEqualTo(2, "ann and bob came online");
        Busy.Value("roomshare_delivery_lag_milliseconds_count").Should().Be(events, "one lag sample per event");
        Busy.Value("roomshare_delivery_lag_milliseconds_sum").Should().BeGreaterThan(0);

        // ann's member event reached ann only; bob's and the three choices reached both.
        Busy.Value("roomshare_deliveries_total").Should().BeGreaterThanOrEqualTo(1 + (2 * (events - 1)));
    }

    [Fact]
    public void WritesAndErrorsAreCountedByOperationAndCode()
    {
        Busy.Value("roomshare_writes_total", ("operation", "SetChoice")).Should().Be(
            MetricsTrafficFixture.Choices, $"the {MetricsTrafficFixture.Replays} retries answered from an opId applied nothing: they are the same write");
        Busy.Value("roomshare_errors_total", ("code", "unknown_menu_item"), ("edge", "hub")).Should().Be(1);
        Busy.Value("roomshare_errors_total", ("code", "invalid_argument"), ("edge", "hub")).Should().Be(2, "a call with an argument missing and one to no such method");
        Busy.Value("roomshare_errors_total", ("code", "unauthorized"), ("edge", "http")).Should().Be(1);
        Busy.Value("roomshare_slow_consumer_resyncs_total").Should().Be(0, "every member kept up");
    }

    [Fact]
    public void RedisCallLatencyIsRecordedPerOperation()
    {
        Busy.Value("roomshare_redis_duration_milliseconds_count", ("operation", "choice"), ("outcome", "ok"))
            .Should().BeGreaterThanOrEqualTo(MetricsTrafficFixture.Choices + 1, "three choices and the refused one each ran the script");
        Busy.Value("roomshare_redis_duration_milliseconds_count", ("operation", "join"), ("outcome", "ok")).Should().BeGreaterThanOrEqualTo(2);
        Busy.Value("roomshare_redis_duration_milliseconds_count", ("outcome", "failed")).Should().BeNull("Redis never failed");
    }

    [Fact]
    public void TheLatencyHistogramsResolveSubMillisecondAndMillisecondLatencies()
    {
        // With OpenTelemetry's default boundaries (0, 5, 10, …) everything on a healthy box fell in one bucket.
        foreach (var (histogram, labels) in new[]
        {
            ("roomshare_redis_duration_milliseconds_bucket", new[] { ("operation", "choice"), ("outcome", "ok") }),
            ("roomshare_delivery_lag_milliseconds_bucket", Array.Empty<(string, string)>()),
        })
        {
            foreach (var le in new[] { "0.25", "0.5", "1", "2", "3", "5" })
            {
                Busy.Value(histogram, [.. labels, ("le", le)]).Should().NotBeNull($"{histogram} has a bucket at {le} ms");
            }
        }

        // Recorded in milliseconds (in microseconds, a loopback call's few hundred would all be past 50). Not 5 ms: a replica
        // starved by a Chromium test beside it on this 2-core box may take longer for each of its few calls here.
        var redisUnder50 = Busy.Value("roomshare_redis_duration_milliseconds_bucket", ("operation", "choice"), ("outcome", "ok"), ("le", "50"));
        redisUnder50.Should().BeGreaterThan(0, "a loopback Redis call takes well under 50 ms");
    }

    [Fact]
    public void TheRuntimeAndAspNetCoreMetersAreExported()
    {
        Busy.Value("http_server_request_duration_seconds_count", ("http_request_method", "POST"), ("http_response_status_code", "201"))
            .Should().BeGreaterThanOrEqualTo(1, "the room was created");
        Busy.Value("kestrel_active_connections").Should().BeGreaterThanOrEqualTo(2, "two WebSockets are open");
        Busy.Value("signalr_server_active_connections").Should().Be(2);
        Busy.Value("dotnet_process_cpu_time_seconds_total").Should().BeGreaterThan(0);
        Busy.Value("dotnet_gc_heap_total_allocated_bytes_total").Should().BeGreaterThan(0);
        Busy.Names.Should().Contain(["dotnet_process_memory_working_set_bytes", "dotnet_thread_pool_queue_length_total"]);
    }

    [Fact]
    public void TheGrafanaDashboardQueriesOnlyMetricsTheServerExports()
    {
        var queries = DashboardQueries(File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "deploy", "grafana", "roomshare.json")));
        var referenced = queries.SelectMany(MetricNames).ToHashSet(StringComparer.Ordinal);

        queries.Should().NotBeEmpty();
        referenced.Should().BeSubsetOf(Busy.Names, $"every metric a panel queries must exist at /metrics (exported: {string.Join(", ", Busy.Names.Order())})");
        referenced.Should().Contain(RoomShareMetrics, "the dashboard shows every RoomShare instrument");
    }

    [Fact]
    public void APanelOfBytesShowsBytesAndNoPanelMixesBytesWithSeconds()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "deploy", "grafana", "roomshare.json")));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray().Where(p => p.TryGetProperty("targets", out _)))
        {
            var names = panel.GetProperty("targets").EnumerateArray().SelectMany(t => MetricNames(t.GetProperty("expr").GetString()!)).ToList();
            var unit = panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("unit").GetString();
            var title = panel.GetProperty("title").GetString();
            if (names.Any(n => n.EndsWith("_bytes", StringComparison.Ordinal)))
            {
                unit.Should().Be("bytes", $"panel '{title}' shows {string.Join(", ", names)}");
                names.Should().NotContain(n => n.Contains("_seconds", StringComparison.Ordinal), $"panel '{title}': seconds on a bytes axis read as nothing");
            }
        }
    }

    [Fact]
    public void ThePrometheusConfigScrapesEveryReplicasMetricsEndpoint()
    {
        var config = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "deploy", "prometheus.yml"));

        config.Should().MatchRegex(@"(?m)^\s+- job_name: roomshare\s*$")
            .And.MatchRegex(@"(?m)^\s+metrics_path: /metrics\s*$")
            .And.MatchRegex(@"(?m)^\s+- names: \[roomserver\]\s*$", "the compose service, one DNS answer per replica")
            .And.MatchRegex(@"(?m)^\s+port: 8080\s*$", "the replicas' port (RoomServer/Dockerfile)");
    }

    /// <summary>Every PromQL expression in the dashboard: panel targets and template-variable queries.</summary>
    private static List<string> DashboardQueries(string json)
    {
        var found = new List<string>();
        Walk(JsonDocument.Parse(json).RootElement);
        return found;

        void Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Name is "expr" or "definition" && property.Value.ValueKind == JsonValueKind.String)
                        {
                            found.Add(property.Value.GetString()!);
                        }

                        Walk(property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
            }
        }
    }

    /// <summary>The metric names in a PromQL expression: identifiers left once label matchers, grouping labels, functions and keywords are removed.</summary>
    private static IEnumerable<string> MetricNames(string query)
    {
        var bare = Grouping().Replace(Matchers().Replace(Ranges().Replace(query, ""), ""), "");
        return Identifier().Matches(bare).Select(m => m.Value).Where(name => !PromQlWords.Contains(name));
    }

    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        "sum", "rate", "increase", "histogram_quantile", "label_values", "instance", "by", "without", "avg", "max", "min", "count",
    };

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\b(by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\b[a-zA-Z_][a-zA-Z0-9_]*\b")]
    private static partial Regex Identifier();
}
