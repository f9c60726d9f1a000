using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class RoomServerProcessTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["RoomServer__ApiKeys__0"] = "testkit-api-key-0123456789",
        ["RoomServer__Jwt__SigningKey"] = "testkit-signing-key-at-least-32-bytes-long",
    };

    [Fact]
    public async Task StartsHealthyThenSurvivesKillAndStartAgain()
    {
        await using var server = await RoomServerProcess.StartAsync(Settings);
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };

        server.ReplicaId.Should().Be($"replica-{server.Port}");
        (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode.Should().BeTrue();

        var firstPid = server.Pid;
        server.Kill();
        await server.StartAgainAsync();

        server.Pid.Should().NotBe(firstPid);
        (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode.Should().BeTrue();
    }

    [Fact]
    public async Task StopAsyncEndsTheProcessGracefully()
    {
        var settings = new Dictionary<string, string>(Settings) { ["RoomServer__ReplicaId"] = "kit-a" };
        await using var server = await RoomServerProcess.StartAsync(settings);

        await server.StopAsync();

        server.ReplicaId.Should().Be("kit-a");
        server.HasExited.Should().BeTrue();
    }

    [Fact]
    public async Task AReplicaThatRefusesToStartFailsWithItsOutput()
    {
        // Production without secrets refuses to start (DESIGN.md §6); the message must show why.
        var act = () => RoomServerProcess.StartAsync(new Dictionary<string, string>());

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message
            .Should().Contain("exited during start-up").And.Contain("Unhandled exception");
    }
}
