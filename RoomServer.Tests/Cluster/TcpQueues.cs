using System.Globalization;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// The kernel's send and receive queues of one IPv4 TCP socket, from <c>/proc/net/tcp</c> (readable
/// by anyone on Linux): proof that a peer that stopped reading really has bytes backed up.
/// </summary>
public static class TcpQueues
{
    /// <summary>(tx bytes, rx bytes) of the socket bound to <paramref name="localPort"/> and connected to <paramref name="remotePort"/>, or null.</summary>
    public static (long Send, long Receive)? Of(int localPort, int remotePort)
    {
        // Lines: "sl local_address rem_address st tx_queue:rx_queue ..." with hex "IP:PORT" addresses.
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || Port(fields[1]) != localPort || Port(fields[2]) != remotePort)
            {
                continue;
            }

            var queues = fields[4].Split(':');
            return (long.Parse(queues[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    long.Parse(queues[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }

        return null;
    }

    /// <summary>The most a socket's send buffer grows to (tcp_wmem's maximum): what the kernel may take off a sender's hands.</summary>
    public static long MaxSendBufferBytes() =>
        long.Parse(File.ReadAllText("/proc/sys/net/ipv4/tcp_wmem").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);

    private static int Port(string hexAddress) =>
        int.Parse(hexAddress[(hexAddress.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
