using System.Net;
using System.Net.Sockets;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.TestKit;

public sealed class ListeningSocketsTests
{
    [Fact]
    public void AProcessHoldsThePortItListensOnAndNoOtherDoes()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        ListeningSockets.HeldBy(Environment.ProcessId, port).Should().BeTrue("this test host listens there");
        ListeningSockets.HeldBy(1, port).Should().BeFalse("init does not");
        listener.Stop();
        ListeningSockets.HeldBy(Environment.ProcessId, port).Should().BeFalse("nothing listens there any more");
    }
}
