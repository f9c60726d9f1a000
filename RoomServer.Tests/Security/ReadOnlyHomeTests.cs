using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// The compose file runs the replica on a read-only root filesystem with only /tmp writable. The
/// cheap local stand-in: a home directory that cannot exist (under /proc, where even root cannot
/// create one) and a private temp directory. The replica must start, serve members, stop cleanly,
/// and complain about nothing.
/// </summary>
public sealed class ReadOnlyHomeTests
{
    [Fact]
    public async Task AReplicaWithNoWritableHomeServesAndStopsWithoutErrors()
    {
        var temp = Directory.CreateTempSubdirectory("roomshare-tmp-").FullName;
        try
        {
            await using var server = await RoomServerProcess.StartAsync(SecurityTestServer.Settings(
                ("HOME", "/proc/roomshare-no-home"),
                ("DOTNET_CLI_HOME", "/proc/roomshare-no-home"),
                ("TMPDIR", temp)));
            using var api = SecurityTestServer.Api(server);
            var room = await SecurityTestServer.CreateRoomAsync(api);
            await using (var ann = await HubTestClient.ConnectAsync(server.BaseUrl, await SecurityTestServer.TokenAsync(api, room, "ann")))
            {
                var joined = await ann.InvokeAsync<Rooms.JoinResult>("Join", room, null);
                (await ann.InvokeAsync<Rooms.ChoiceAck>("SetChoice", room, "pizza", 2, null)).Version.Should().Be(joined.Position.Version + 1);
            }

            await server.StopAsync();

            server.HasExited.Should().BeTrue();
            server.Output.Should().NotContainAny(["fail:", "crit:", "Unhandled exception"], "nothing needs a writable home");
            Directory.Exists("/proc/roomshare-no-home").Should().BeFalse();
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
