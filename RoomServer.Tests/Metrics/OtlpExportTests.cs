using System.Net;
using System.Text;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Tests.Infrastructure;
using RoomShare.RoomServer.Tests.Security;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// OTLP push is opt-in: with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a replica posts its metrics
/// (OTLP/HTTP protobuf) to that collector — here a bare HTTP listener on a free loopback port that
/// records what arrives. The RoomShare instruments' names travel as plain UTF-8 in the protobuf.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task WithAnOtlpEndpointTheReplicaPushesTheRoomShareMeter()
    {
        var (path, contentType, body, replicaId) = await FirstPushAsync(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:{port}"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));

        path.Should().Be("/v1/metrics");
        contentType.Should().Be("application/x-protobuf");
        body.Should().Contain("roomshare.connections").And.Contain("roomshare").And.Contain(replicaId, "service.instance.id is the replica");
    }

    [Theory]
    [InlineData("notaurl", null, "OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// URL")]
    [InlineData("otel-collector:4317", null, "OTEL_EXPORTER_OTLP_ENDPOINT must be")]
    [InlineData("ftp://otel-collector:4317", null, "OTEL_EXPORTER_OTLP_ENDPOINT must be")]
    [InlineData("/v1/metrics", null, "OTEL_EXPORTER_OTLP_ENDPOINT must be")]
    [InlineData("http://otel-collector:4317", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf")]
    [InlineData(null, "grcp", "OTEL_EXPORTER_OTLP_PROTOCOL must be")]
    public void AnUnusableSettingIsRefusedNamingTheVariable(string? endpoint, string? protocol, string why)
    {
        var result = new OtlpExportSettingsValidator().Validate(null, new OtlpExportSettings { Endpoint = endpoint, Protocol = protocol });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(why);
    }

    [Theory]
    [InlineData("notaurl", null, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT must be an absolute http:// or https:// URL")]
    [InlineData("http://otel-collector:4318/v1/metrics", "http/json", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL must be grpc or http/protobuf")]
    public void AnUnusableMetricsSettingIsRefusedNamingTheVariable(string? endpoint, string? protocol, string why)
    {
        var result = new OtlpExportSettingsValidator().Validate(null, new OtlpExportSettings { MetricsEndpoint = endpoint, MetricsProtocol = protocol });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(why);
    }

    [Fact]
    public void TheMetricsSignalsOwnEndpointAndProtocolWinOverTheGeneralOnes()
    {
        var exporter = new OpenTelemetry.Exporter.OtlpExporterOptions
        {
            Endpoint = new Uri("http://general:4317"),
            Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.Grpc,
        };

        new OtlpExportSettings { Endpoint = "http://general:4317", Protocol = "grpc", MetricsEndpoint = " http://metrics:4318/v1/metrics ", MetricsProtocol = "http/protobuf" }
            .ApplyMetricsSignalsOwn(exporter);

        (exporter.Endpoint, exporter.Protocol).Should().Be((new Uri("http://metrics:4318/v1/metrics"), OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf));
    }

    [Fact]
    public void TheMetricsSignalsOwnEndpointAloneTurnsThePushOn() =>
        new OtlpExportSettings { MetricsEndpoint = "http://otel-collector:4318/v1/metrics" }.Push.Should().BeTrue();

    [Fact]
    public async Task WithOnlyTheMetricsSignalsOwnEndpointTheReplicaPushesThere()
    {
        var (path, _, body, _) = await FirstPushAsync(
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:{port}/collector/metrics"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"));

        path.Should().Be("/collector/metrics", "a signal's own endpoint is used as it is given");
        body.Should().Contain("roomshare.connections");
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("http://otel-collector:4317", null)]
    [InlineData("https://collector.example.com/otlp", "http/protobuf")]
    [InlineData(" http://127.0.0.1:4318 ", " grpc ")]
    public void AnAbsentOrUsableSettingPasses(string? endpoint, string? protocol) =>
        new OtlpExportSettingsValidator().Validate(null, new OtlpExportSettings { Endpoint = endpoint, Protocol = protocol })
            .Succeeded.Should().BeTrue();

    [Fact]
    public async Task AReplicaGivenAnEndpointThatIsNotAUrlRefusesToStartAndSaysWhichVariable()
    {
        var start = () => RoomServerProcess.StartAsync(
            SecurityTestServer.Settings(("OTEL_EXPORTER_OTLP_ENDPOINT", "otel-collector")),
            startTimeout: TimeSpan.FromSeconds(30));

        var refused = await start.Should().ThrowAsync<InvalidOperationException>("metrics that silently go nowhere are a misconfiguration, not a default");
        refused.Which.Message.Should().Contain("exited during start-up").And.Contain("OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// URL");
    }

    /// <summary>
    /// A replica started with these OTLP settings, <c>{port}</c> in them standing for a loopback collector's port, pushing
    /// every 500 ms; the first push that carries the RoomShare meter, and the replica's id.
    /// </summary>
    private static async Task<(string Path, string? ContentType, string Body, string ReplicaId)> FirstPushAsync(params (string Key, string Value)[] otlp)
    {
        var port = FreePort.Next();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var received = CollectAsync(collector, TimeSpan.FromSeconds(30));

        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            [.. otlp.Select(s => (s.Key, s.Value.Replace("{port}", portText, StringComparison.Ordinal))), ("OTEL_METRIC_EXPORT_INTERVAL", "500")]));

        var (path, contentType, body) = await received;
        return (path, contentType, body, server.ReplicaId);
    }

    /// <summary>Answers 200 to every post until one carries the RoomShare meter; returns that one.</summary>
    private static async Task<(string Path, string? ContentType, string Body)> CollectAsync(HttpListener collector, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        while (true)
        {
            var context = await collector.GetContextAsync().WaitAsync(deadline.Token);
            using var reader = new StreamReader(context.Request.InputStream, Encoding.Latin1);
            var body = await reader.ReadToEndAsync(deadline.Token);
            var request = (context.Request.Url!.AbsolutePath, context.Request.ContentType, body);
            context.Response.StatusCode = 200;
            context.Response.Close();
            if (body.Contains("RoomShare", StringComparison.Ordinal))
            {
                return request;
            }
        }
    }
}
