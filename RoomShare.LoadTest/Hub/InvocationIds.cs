using System.Globalization;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// Invocation ids carry what they are for, so a completion needs no lookup table: "j" is the connection's
/// Join, "s{step}c{change}" is change number <c>change</c> of write step <c>step</c>. A SetChoice uses the
/// same string as its opId, so the RoomEvent it causes names the change too.
/// </summary>
public static class InvocationIds
{
    public const string Join = "j";

    public static string Change(int step, int change) =>
        string.Create(CultureInfo.InvariantCulture, $"s{step}c{change}");

    /// <summary>Reads a change id written by <see cref="Change"/>; false for anything else (another client's opId, a Join).</summary>
    public static bool TryParseChange(string? id, out int step, out int change)
    {
        step = change = 0;
        if (id is null || id.Length < 4 || id[0] != 's')
        {
            return false;
        }

        var c = id.IndexOf('c', 1);
        return c > 1
            && int.TryParse(id.AsSpan(1, c - 1), NumberStyles.None, CultureInfo.InvariantCulture, out step)
            && int.TryParse(id.AsSpan(c + 1), NumberStyles.None, CultureInfo.InvariantCulture, out change);
    }

    public static bool IsChange(string id) => id.Length > 0 && id[0] == 's';
}
