using System.Globalization;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Orders dead-letter ids: a Redis stream id (<c>milliseconds-sequence</c>) or embedded mode's
/// counter (a bare number), compared as numbers part by part, the way the stream orders them.
/// </summary>
public static class DeadLetterIds
{
    /// <summary>Whether <paramref name="id"/> is a dead-letter id at all (numbers that fit, as Redis's own).</summary>
    public static bool IsValid(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? IsNumber(id)
            : IsNumber(id.AsSpan(0, dash)) && IsNumber(id.AsSpan(dash + 1));
    }

    public static int Compare(string left, string right)
    {
        var (leftMs, leftSeq) = Parse(left);
        var (rightMs, rightSeq) = Parse(right);
        return leftMs != rightMs ? leftMs.CompareTo(rightMs) : leftSeq.CompareTo(rightSeq);
    }

    private static bool IsNumber(ReadOnlySpan<char> digits) =>
        digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9') && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static (ulong Milliseconds, ulong Sequence) Parse(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? (ulong.Parse(id, CultureInfo.InvariantCulture), 0)
            : (ulong.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture), ulong.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture));
    }
}
