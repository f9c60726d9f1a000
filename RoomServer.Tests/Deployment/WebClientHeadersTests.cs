using System.Net;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// The web client's pages and files carry a strict content policy, no sniffing, no framing and no Referer (the join
/// link's token is in the address). The browser tests (Browser/) run the pages under this policy in Chromium.
/// </summary>
public sealed class WebClientHeadersTests
{
    [Fact]
    public async Task TheWebClientsFilesCarryTheSecurityHeaders()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = "production-api-key-0123456789",
            ["RoomServer__Jwt__SigningKey"] = "production-signing-key-0123456789-abcdefghij",
        };
        await using var server = await RoomServerProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };

        foreach (var path in new[] { "/", "/index.html", "/operator.html", "/js/app.js", "/app.css" })
        {
            using var response = await http.GetAsync(path);

            response.StatusCode.Should().Be(HttpStatusCode.OK, path);
            response.Headers.GetValues("Content-Security-Policy").Should().Equal([WebClientHeaders.ContentSecurityPolicy], path);
            response.Headers.GetValues("X-Content-Type-Options").Should().Equal(["nosniff"], path);
            response.Headers.GetValues("X-Frame-Options").Should().Equal(["DENY"], path);
            response.Headers.GetValues("Referrer-Policy").Should().Equal(["no-referrer"], path);
        }
    }
}
