namespace RoomShare.RoomServer.Logging;

/// <summary>
/// A query string as it may be logged: browsers send the member token as <c>access_token</c> in the
/// hub's URL (WebSockets take no headers), so its value is replaced; every other parameter is kept.
/// </summary>
public static class QueryRedaction
{
    public const string Redacted = "[redacted]";

    private static readonly string[] SecretParameters = ["access_token"];

    public static string Redact(string query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return query;
        }

        var leading = query.StartsWith('?') ? "?" : "";
        var parts = query[leading.Length..].Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var equals = parts[i].IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? parts[i] : parts[i][..equals]).Replace('+', ' '));
            if (SecretParameters.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase))
            {
                parts[i] = (equals < 0 ? parts[i] : parts[i][..equals]) + "=" + Redacted;
            }
        }

        return leading + string.Join('&', parts);
    }
}
