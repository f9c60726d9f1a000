using System.Globalization;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Dead-letter ids: a Redis stream id (<c>milliseconds-sequence</c>) or embedded mode's counter (a bare
/// number). Read as numbers part by part, the way the stream orders them, and written back in one
/// canonical form (no leading zeros; a Redis id always with its sequence), so both stores look a
/// letter up by the id they gave it.
/// </summary>
public static class DeadLetterIds
{
    /// <summary>The last id there can be: nothing comes after it.</summary>
    public const string Last = "18446744073709551615-18446744073709551615";

    /// <summary>The id in canonical form, or null when it is no dead-letter id at all.</summary>
    public static string? Canonical(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return TryNumber(id, out var counter) ? counter.ToString(CultureInfo.InvariantCulture) : null;
        }

        return TryNumber(id.AsSpan(0, dash), out var ms) && TryNumber(id.AsSpan(dash + 1), out var seq)
            ? $"{ms.ToString(CultureInfo.InvariantCulture)}-{seq.ToString(CultureInfo.InvariantCulture)}"
            : null;
    }

    /// <summary>A Redis stream id for an id given in either form (a bare number is its first entry, <c>-0</c>).</summary>
    public static string AsStreamId(string canonical) =>
        canonical.Contains('-', StringComparison.Ordinal) ? canonical : canonical + "-0";

    public static int Compare(string left, string right)
    {
        var (leftMs, leftSeq) = Parse(left);
        var (rightMs, rightSeq) = Parse(right);
        return leftMs != rightMs ? leftMs.CompareTo(rightMs) : leftSeq.CompareTo(rightSeq);
    }

    private static bool TryNumber(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        return digits.Length is > 0 and <= 64 && !digits.ContainsAnyExceptInRange('0', '9')
            && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static (ulong Milliseconds, ulong Sequence) Parse(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? (ulong.Parse(id, CultureInfo.InvariantCulture), 0)
            : (ulong.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture), ulong.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture));
    }
}
