using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// An order record a replica cannot read: a damaged stream entry, or one a newer RoomShare wrote during a
/// rolling upgrade. Left pending for good it would hold up every later record of its room. So the replica
/// that cannot read it leaves it for the others (its claim lapses after the claim timeout and another
/// replica takes it over) until it has been claimed <see cref="MostClaims"/> times; then it becomes a dead
/// letter for each endpoint it was for (<c>lastError</c> says why), whose body is the record as stored,
/// and the room goes on. An operator's retry puts that record back for the letter's endpoint
/// (outbox_restore.lua), so a replica that can read it delivers it then.
/// </summary>
internal static class UnreadableOrderRecords
{
    /// <summary>
    /// Claims of a record before a replica that cannot read it dead-letters it: with the failing replicas
    /// staying away, up to three replicas try it. Every claim counts (the library keeps one count per
    /// entry), also a takeover from a replica that read it and died delivering it.
    /// </summary>
    public const int MostClaims = 3;

    /// <summary>The dead letter's field that marks its body as a stored record, not a webhook body.</summary>
    public const string MarkerField = "unreadable";

    public static string Reason(Exception exception) => "unreadable record: " + exception.Message;

    /// <summary>The stored record as a JSON array of its <c>[field, value]</c> pairs, in stored order (as text).</summary>
    public static string StoredAsJson(RedisValue[] flat) =>
        JsonSerializer.Serialize(Enumerable.Range(0, flat.Length / 2).Select(i => new[] { (string?)flat[2 * i], (string?)flat[(2 * i) + 1] }));

    /// <summary>The version as stored, or 0 when it is not a number (the dead letter still needs one).</summary>
    public static long VersionOf(IReadOnlyDictionary<string, string> fields) =>
        long.TryParse(fields.GetValueOrDefault("version"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var version) ? version : 0;

    /// <summary>
    /// outbox_restore.lua's arguments after its first five: the stored fields from a dead letter's body,
    /// with <paramref name="endpointField"/> set to the letter's endpoint (the retry is for it alone).
    /// </summary>
    public static RedisValue[] RestoredFields(string storedAsJson, string endpointField, string endpoint)
    {
        using var stored = JsonDocument.Parse(storedAsJson);
        var fields = new List<RedisValue>();
        foreach (var pair in stored.RootElement.EnumerateArray().Where(p => p[0].GetString() != endpointField))
        {
            fields.Add(pair[0].GetString());
            fields.Add(pair[1].GetString());
        }

        fields.Add(endpointField);
        fields.Add(endpoint);
        return [.. fields];
    }
}
