using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class NodeScriptTests(KitHubServer server) : IClassFixture<KitHubServer>
{
    [Fact]
    public async Task RunsAScriptAndFindsItsLastJsonLine()
    {
        var result = await NodeScript.RunAsync("kit-selftest.mjs", new Dictionary<string, string> { ["KIT_ECHO"] = "hi", ["KIT_EXIT"] = "3" }, TimeSpan.FromSeconds(30));

        result.ExitCode.Should().Be(3, result.ToString());
        result.Stdout.Should().Contain("a log line that is not JSON");
        result.Stderr.Should().Contain("a line on stderr");
        result.LastJsonLine!.Value.GetProperty("echo").GetString().Should().Be("hi");
    }

    [Fact]
    public async Task ATimeoutKillsTheScriptAndSaysSo()
    {
        var act = () => NodeScript.RunAsync("kit-selftest.mjs", new Dictionary<string, string> { ["KIT_HANG"] = "1" }, TimeSpan.FromSeconds(2));

        (await act.Should().ThrowAsync<TimeoutException>()).Which.Message
            .Should().Contain("kit-selftest.mjs").And.Contain("killed").And.Contain("a log line");
    }

    [Theory]
    [InlineData("default", "WebSockets")]
    [InlineData("websockets-skip", "WebSockets")]
    public async Task TheSignalRDriverRunsTheOfficialClientAgainstAHub(string mode, string transport)
    {
        var env = new Dictionary<string, string>
        {
            ["BASE_URL"] = server.BaseUrl.ToString(),
            ["TOKEN"] = "token",
            ["ROOM_ID"] = "r1",
            ["MENU_ID"] = "m1",
            ["MODE"] = mode,
        };

        var result = await NodeScript.RunAsync("signalr-client.mjs", env, TimeSpan.FromSeconds(30));

        result.ExitCode.Should().Be(0, result.ToString());
        var json = result.LastJsonLine!.Value;
        json.GetProperty("ok").GetBoolean().Should().BeTrue();
        json.GetProperty("joinVersion").GetInt32().Should().Be(0);
        json.GetProperty("ackVersion").GetInt32().Should().Be(1);
        json.GetProperty("eventVersion").GetInt32().Should().Be(1);
        json.GetProperty("replica").GetString().Should().Be("kit");
        json.GetProperty("transport").GetString().Should().Be(transport);
        json.GetProperty("unknownMenuError").GetString().Should().Contain("unknown_menu_item");
    }
}
