using System.Net;
using System.Net.Sockets;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class RedisClusterProcessTests
{
    [Fact]
    public async Task ANodePortTakenBeforeItBindsRestartsTheClusterOnOthers()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var handedOut = 0;
        int NextPort() => Interlocked.Increment(ref handedOut) == 1 ? takenPort : FreePort.Next();

        await using var cluster = await RedisClusterProcess.StartAsync(NextPort);

        cluster.Nodes.Should().HaveCount(RedisClusterProcess.NodeCount);
        cluster.Nodes.Select(n => n.Port).Should().NotContain(takenPort);
        handedOut.Should().BeGreaterThan(2 * RedisClusterProcess.NodeCount, "the first attempt's ports were given up for a second set");
    }
}
