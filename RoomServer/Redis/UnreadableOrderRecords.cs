using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// An order record this replica cannot read: a damaged stream entry, or one a newer RoomShare wrote
/// during a rolling upgrade. Left pending it would be claimed, fail and be claimed again forever,
/// holding up every later record of its room. Instead it becomes a dead letter for each endpoint it was
/// for (<c>lastError</c> says why), whose body is the record exactly as stored, and the room goes on.
/// An operator's retry puts that stored record back for the letter's endpoint (outbox_restore.lua), so
/// a replica that can read it delivers it then.
/// </summary>
internal static class UnreadableOrderRecords
{
    /// <summary>The dead letter's field that marks its body as a stored record, not a webhook body.</summary>
    public const string MarkerField = "unreadable";

    public static string Reason(Exception exception) => "unreadable record: " + exception.Message;

    /// <summary>The stored record as a JSON object of its fields, in their stored order.</summary>
    public static string StoredAsJson(IReadOnlyDictionary<string, string> fields) => JsonSerializer.Serialize(fields);

    /// <summary>The version as stored, or 0 when it is not a number (the dead letter still needs one).</summary>
    public static long VersionOf(IReadOnlyDictionary<string, string> fields) =>
        long.TryParse(fields.GetValueOrDefault("version"), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0;

    /// <summary>
    /// outbox_restore.lua's arguments after its first three: the stored fields from a dead letter's body,
    /// with <paramref name="endpointField"/> set to the letter's endpoint (the retry is for it alone).
    /// </summary>
    public static RedisValue[] RestoredFields(string storedAsJson, string endpointField, string endpoint)
    {
        using var stored = JsonDocument.Parse(storedAsJson);
        var fields = new List<RedisValue>();
        foreach (var field in stored.RootElement.EnumerateObject().Where(f => f.Name != endpointField))
        {
            fields.Add(field.Name);
            fields.Add(field.Value.GetString());
        }

        fields.Add(endpointField);
        fields.Add(endpoint);
        return [.. fields];
    }
}
