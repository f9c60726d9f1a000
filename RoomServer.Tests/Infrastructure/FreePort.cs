using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// A free TCP port on 127.0.0.1 for a child process (redis-server, a replica, nginx) or a test
/// receiver to bind. Picked below the kernel's ephemeral range: a port the OS hands out for port 0
/// lies inside it, and any outgoing connection (a replica's socket to Redis, say) may take it as its
/// local port before the server that was given it binds — a webhook receiver, whose port is in the
/// replicas' settings before it starts, failed that way. Each port is handed out once per test run.
/// There is still a small window before the child binds it, which is why processes report bind
/// failures in their start-up exception. Below 20000 too: eng/cluster.sh and the load tool (run by the Deployment and
/// Bench tests beside the others) pick theirs in 20000..32767 and know nothing of the ports handed out here.
/// </summary>
public static class FreePort
{
    private const int Lowest = 10_000;
    private const int ScriptsLowest = 20_000;
    private static readonly HashSet<int> HandedOut = [];
    private static readonly int EphemeralStart = ReadEphemeralStart();

    public static int Next()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, Math.Min(EphemeralStart, ScriptsLowest));
            lock (HandedOut)
            {
                if (!HandedOut.Contains(port) && CanBind(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        return OsPicked();
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int OsPicked()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The first port of <c>net.ipv4.ip_local_port_range</c> (Linux's default 32768 where it cannot be read).</summary>
    private static int ReadEphemeralStart()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0];
            var start = int.Parse(first, CultureInfo.InvariantCulture);
            return start > Lowest + 1000 ? start : 32_768;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32_768;
        }
    }
}
