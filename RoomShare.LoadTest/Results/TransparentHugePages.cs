namespace RoomShare.LoadTest.Results;

/// <summary>
/// The kernel's transparent-huge-page mode (<c>always</c>, <c>madvise</c> or <c>never</c>). On the development VM
/// (DAMON on, as found) switching it from <c>madvise</c> to <c>always</c> moved RoomShare's W1 capacity from 1 127 to at
/// least 2 083 changes/s in one session (docs/bench/w1-thp-always.md), so a report that does not say which it ran under
/// cannot be compared with another.
/// </summary>
public static class TransparentHugePages
{
    public const string EnabledSysfs = "/sys/kernel/mm/transparent_hugepage/enabled";

    /// <summary>The selected mode, the bracketed word of "always [madvise] never"; null when the kernel has no THP or the file cannot be read.</summary>
    public static string? Mode(string enabled = EnabledSysfs)
    {
        string text;
        try
        {
            text = File.ReadAllText(enabled);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var open = text.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf(']', open + 1);
        return close > open + 1 ? text[(open + 1)..close] : null;
    }
}
