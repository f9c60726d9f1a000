using System.Globalization;

namespace RoomShare.LoadTest.Tail;

/// <summary>One acknowledged change: when it was meant to be sent (monotonic ns) and how long until its ack.</summary>
public readonly record struct AckedChange(long IntendedNs, long AckUs)
{
    public long CompletedNs => IntendedNs + (AckUs * 1000);
}

/// <summary>
/// A write step's ack timeline as <c>--latencies</c> writes it: <c>#</c> comments (one of them the
/// <c>clock:</c> line), the header <c>intended_ns,ack_us</c>, then one row per change; an empty ack is a change
/// never acknowledged and is left out (it has no wait to attribute).
/// </summary>
public sealed record AckTimeline(ClockAnchor? Clock, IReadOnlyList<AckedChange> Changes)
{
    public const string Header = Results.AckTimelineFile.Header; // one format, written and read
    private const string ClockPrefix = "# clock:";

    public static AckTimeline Read(string path)
    {
        ClockAnchor? clock = null;
        var changes = new List<AckedChange>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith(ClockPrefix, StringComparison.Ordinal))
            {
                clock = ParseClock(line, path, lineNumber);
                continue;
            }

            if (line.StartsWith('#') || line.Length == 0 || line == Header)
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != 2 || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var intended))
            {
                throw TailInputException.At(path, lineNumber, $"expected '{Header}' row, got '{line}'");
            }

            if (fields[1].Length == 0)
            {
                continue; // never acknowledged
            }

            if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ackUs))
            {
                throw TailInputException.At(path, lineNumber, $"ack_us is not a whole number of µs: '{fields[1]}'");
            }

            changes.Add(new AckedChange(intended, ackUs));
        }

        return new AckTimeline(clock, changes);
    }

    // "# clock: monotonic_ns=85999796210883 utc=2026-12-03T16:51:58.9597903Z"
    private static ClockAnchor ParseClock(string line, string path, int lineNumber)
    {
        long? monotonic = null;
        DateTime? utc = null;
        foreach (var part in line[ClockPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("monotonic_ns=", StringComparison.Ordinal)
                && long.TryParse(part["monotonic_ns=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
            {
                monotonic = ns;
            }
            else if (part.StartsWith("utc=", StringComparison.Ordinal)
                && DateTime.TryParseExact(part["utc=".Length..], "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at))
            {
                utc = at;
            }
        }

        return monotonic is { } m && utc is { } u
            ? new ClockAnchor(m, u)
            : throw TailInputException.At(path, lineNumber, $"expected '# clock: monotonic_ns=<ns> utc=<ISO 8601>', got '{line}'");
    }
}
