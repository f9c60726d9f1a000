using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// The compose file runs the replica on a read-only root filesystem with only /tmp writable. The
/// cheap local stand-in: a home directory that cannot exist (under /proc, where even root cannot
/// create one) and a private temp directory. The replica must start, serve members, stop cleanly,
/// complain about nothing, and write no file (Data Protection's key ring is the one writer ASP.NET
/// Core would add on its own).
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
                ("TMPDIR", temp),
                ("Logging__LogLevel__Microsoft.AspNetCore.DataProtection", "Information")));
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
            server.Output.Should().NotContainAny(["Writing data to file", "as key repository"],
                "Data Protection's key ring stays in memory: nothing is written to disk (Auth/ProcessLocalKeyRing)");
            Directory.Exists("/proc/roomshare-no-home").Should().BeFalse();
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
