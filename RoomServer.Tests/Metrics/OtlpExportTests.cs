using System.Net;
using System.Text;
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
        var port = FreePort.Next();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var received = CollectAsync(collector, TimeSpan.FromSeconds(30));

        await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{port}"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500")));

        var (path, contentType, body) = await received;
        path.Should().Be("/v1/metrics");
        contentType.Should().Be("application/x-protobuf");
        body.Should().Contain("roomshare.connections").And.Contain("roomshare").And.Contain(server.ReplicaId, "service.instance.id is the replica");
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
