using System.Globalization;
using System.Text.RegularExpressions;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>One scrape of <c>/metrics</c>, read as series → value (Prometheus text format 0.0.4).</summary>
public sealed partial class PrometheusText(string text)
{
    public string Text { get; } = text;

    /// <summary>Every sample's metric name (histograms as their _bucket, _sum and _count lines).</summary>
    public IReadOnlySet<string> Names { get; } = Samples(text).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>The sum over the series of <paramref name="name"/> whose labels include every given one; null when there is none.</summary>
    public double? Value(string name, params (string Label, string Value)[] labels)
    {
        var matching = Samples(Text)
            .Where(s => s.Name == name && labels.All(l => s.Labels.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .ToList();
        return matching.Count == 0 ? null : matching.Sum(s => s.Value);
    }

    private static IEnumerable<(string Name, string Labels, double Value)> Samples(string text)
    {
        foreach (Match m in Sample().Matches(text))
        {
            var value = m.Groups["value"].Value;
            yield return (m.Groups["name"].Value, m.Groups["labels"].Value,
                value switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
                });
        }
    }

    [GeneratedRegex(@"(?m)^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})? (?<value>\S+)( \d+)?\r?$")]
    private static partial Regex Sample();
}
