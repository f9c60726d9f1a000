using System.Net;
using System.Text.RegularExpressions;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// nginx's error-level lines quote the request line, and a hub URL carries the member's token in its
/// query string (DESIGN.md §9: never a token in the logs): every shipped nginx config logs at crit only.
/// </summary>
public sealed class NginxErrorLogTests
{
    private const string Token = "eyJhbGciOiJIUzI1NiJ9.nginx-error-log-token-7c3f9a21.sig";

    [Fact]
    public async Task AHubRequestWithATokenThatNoUpstreamCanAnswerLeavesNoTokenInTheLoopbackErrorLog()
    {
        // Nothing listens there: nginx fails to connect upstream (an error-level event with the request line).
        await using var nginx = await NginxProcess.StartAsync([new Uri($"http://127.0.0.1:{FreePort.Next()}")]);
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = nginx.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };

        foreach (var path in new[] { $"/hubs/room?id=conn-1&access_token={Token}", $"/hubs/room/negotiate?negotiateVersion=1&access_token={Token}" })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(path.Contains("negotiate", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path));
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "no upstream can answer");
        }

        var log = File.Exists(nginx.ErrorLogPath) ? await File.ReadAllTextAsync(nginx.ErrorLogPath) : "";
        log.Should().NotContain("nginx-error-log-token", "the error log must not quote a request line that carries a member token");
    }

    [Fact]
    public void EveryShippedNginxConfigLogsErrorsAtCritOnly()
    {
        var files = Directory.GetFiles(Path.Combine(RepoPaths.RepoRoot, "nginx"));
        var levels = files
            .SelectMany(file => File.ReadAllLines(file).Select(line => line.Split('#')[0])
                .Select(line => Regex.Match(line, @"^\s*error_log\s+(\S+)(?:\s+(\w+))?\s*;"))
                .Where(m => m.Success)
                .Select(m => (File: Path.GetFileName(file), Level: m.Groups[2].Success ? m.Groups[2].Value : "error (the default)")))
            .ToList();

        levels.Select(l => l.File).Should().Contain(["nginx.conf", "loopback.conf.template"], "both top-level configs set their error log");
        levels.Should().OnlyContain(l => l.Level == "crit", "error-level lines quote the request line, and hub URLs carry a token");
    }
}
