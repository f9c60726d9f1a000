using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>The newcomer's demo: there in Development, absent everywhere else.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task InDevelopmentTheDemoCreatesARoomWhoseLinksJoin()
    {
        await using var server = await RoomServerProcess.StartAsync(environment: "Development");
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };

        (await http.GetAsync("/demo.html")).StatusCode.Should().Be(HttpStatusCode.OK);
        var demo = await (await http.PostAsync("/demo/rooms", null)).Content.ReadFromJsonAsync<JsonElement>();

        var roomId = demo.GetProperty("roomId").GetString()!;
        var links = demo.GetProperty("links").EnumerateArray().ToList();
        links.Should().HaveCountGreaterThanOrEqualTo(2);
        links.Select(l => l.GetProperty("role").GetString()).Should().Contain("owner");
        var url = links[0].GetProperty("url").GetString()!;
        url.Should().StartWith($"/#room={roomId}&token=");
        await using var member = await HubTestClient.ConnectAsync(server.BaseUrl, url[(url.IndexOf("token=", StringComparison.Ordinal) + 6)..]);
        var joined = await member.InvokeAsync("Join", roomId, null);
        joined.GetProperty("snapshot").GetProperty("menu").GetArrayLength().Should().BeGreaterThan(1);
        server.Output.Should().MatchRegex(@"API key \(this run\):\s+dev-[0-9a-f]{24}", "Development prints the generated key and how to start");
    }

    [Fact]
    public async Task InDevelopmentAConfiguredApiKeyIsNeverPrinted()
    {
        const string configured = "configured-api-key-0123456789abcdef";
        await using var server = await RoomServerProcess.StartAsync(new Dictionary<string, string> { ["RoomServer__ApiKeys__0"] = configured }, environment: "Development");

        await Poll.UntilAsync(() => Task.FromResult(server.Output.Contains("API key (this run):", StringComparison.Ordinal)), TimeSpan.FromSeconds(15), "the banner is printed");
        server.Output.Should().NotContain(configured, "a configured key may be a real one, and console output can reach a log");
    }

    [Fact]
    public async Task OutsideDevelopmentTheDemoDoesNotExistAndSecretsAreRequired()
    {
        var settings = new Dictionary<string, string>
        {
            ["RoomServer__ApiKeys__0"] = "production-api-key-0123456789",
            ["RoomServer__Jwt__SigningKey"] = "production-signing-key-0123456789-abcdefghij",
        };
        await using var server = await RoomServerProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };

        (await http.GetAsync("/demo.html")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var doubleSlash = new Uri(server.BaseUrl.GetLeftPart(UriPartial.Authority) + "//demo.html");
        doubleSlash.AbsolutePath.Should().Be("//demo.html");
        (await http.GetAsync(doubleSlash)).StatusCode.Should().Be(HttpStatusCode.NotFound, "the static files ignore a leading slash, so the guard does too");
        (await http.PostAsync("/demo/rooms", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        server.Output.Should().NotContain("production-api-key", "keys are never printed or logged");

        var start = () => RoomServerProcess.StartAsync(startTimeout: TimeSpan.FromSeconds(20));
        (await start.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("RoomServer__ApiKeys__0", "production refuses to start without its secrets");
    }
}
