using System.Globalization;
using System.Text.RegularExpressions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A drained replica's own account of its batches (log 2015; the README's Operations, Drain), read from its output: when
/// each batch was asked to close, by the drain's clock. Its clients' view of their closes is later when
/// their process is busy; this is not.
/// </summary>
public static partial class DrainBatches
{
    /// <summary>The batches of the replica's last drain, in order.</summary>
    public static IReadOnlyList<(int Batch, int Of, int Count, TimeSpan At)> OfLastDrain(string output)
    {
        var start = output.LastIndexOf("Draining:", StringComparison.Ordinal);
        if (start < 0)
        {
            return [];
        }

        return BatchLine().Matches(output[start..])
            .Select(m => (
                int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                TimeSpan.FromMilliseconds(long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture))))
            .ToList();
    }

    [GeneratedRegex(@"Drain batch (\d+) of (\d+): (\d+) connections asked to close at (\d+) ms")]
    private static partial Regex BatchLine();
}
