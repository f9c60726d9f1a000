using System.Runtime.InteropServices;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// The box a run measured, for the report: figures mean nothing without it. <c>MemoryMonitor</c>: a kernel memory
/// monitor that takes a core in bursts (<see cref="KernelMemoryMonitor"/>), or null. <c>HugePages</c>: the kernel's
/// transparent-huge-page mode (<see cref="TransparentHugePages"/>), or null.
/// </summary>
public sealed record MachineInfo(string Cpu, int Cores, double MemoryGiB, string Os, string Kernel, string Runtime, double[] LoadAverageAtStart, string? MemoryMonitor = null, string? HugePages = null)
{
    public static MachineInfo Read() => new(
        Cpu: FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Cores: Environment.ProcessorCount,
        MemoryGiB: Math.Round(double.Parse((FirstValue("/proc/meminfo", "MemTotal") ?? "0").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024, 1),
        Os: OsName(),
        Kernel: TryRead("/proc/sys/kernel/osrelease")?.Trim() ?? RuntimeInformation.OSDescription,
        Runtime: RuntimeInformation.FrameworkDescription,
        LoadAverageAtStart: LoadAverage(),
        MemoryMonitor: KernelMemoryMonitor.Describe(),
        HugePages: TransparentHugePages.Mode());

    public static double[] LoadAverage() =>
        (TryRead("/proc/loadavg") ?? "0 0 0").Split(' ').Take(3)
            .Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static string OsName()
    {
        var line = (TryRead("/etc/os-release") ?? string.Empty).Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
        return line is null ? RuntimeInformation.OSDescription : line["PRETTY_NAME=".Length..].Trim('"');
    }

    private static string? FirstValue(string path, string key) =>
        (TryRead(path) ?? string.Empty).Split('\n')
            .Where(line => line.StartsWith(key, StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
            .FirstOrDefault();

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
