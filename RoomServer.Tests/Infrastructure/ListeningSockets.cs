using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Whether a process holds the socket listening on a loopback port (from /proc/net/tcp and its fds), as
/// eng/lib/processes.sh's <c>listens_on</c> does: a connection that succeeds proves only that something listens
/// there, and a server that took the port first would pass for the fixture's own while it failed to bind.
/// </summary>
public static class ListeningSockets
{
    private const string Listen = "0A";

    public static bool HeldBy(int pid, int port)
    {
        // On 127.0.0.1 or 0.0.0.0: another process may listen on the same port at another address.
        var hex = port.ToString("X4", CultureInfo.InvariantCulture);
        string[] addresses = ["0100007F:" + hex, "00000000:" + hex];
        var sockets = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 9 && fields[3] == Listen && addresses.Contains(fields[1]))
            .Select(fields => $"socket:[{fields[9]}]")
            .ToHashSet(StringComparer.Ordinal);
        if (sockets.Count == 0)
        {
            return false;
        }

        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd")
                .Any(fd => new FileInfo(fd).LinkTarget is { } target && sockets.Contains(target));
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return false; // gone, or not ours to read
        }
    }
}
