using System.Globalization;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>Reads a process's resident memory from /proc (Linux), for tests that report what a fault costs.</summary>
public static class ProcessMemory
{
    public static long RssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
        return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
    }
}
