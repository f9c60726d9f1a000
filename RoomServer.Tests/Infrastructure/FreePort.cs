using System.Net;
using System.Net.Sockets;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A free TCP port on 127.0.0.1 for a child process (redis-server, a replica, nginx) to bind.
/// The OS picks it by binding port 0; there is a small window before the child binds it,
/// which is why processes report bind failures in their start-up exception.
/// </summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
