using System.Security.Cryptography;
using System.Text;

namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// A validated <c>Idempotency-Key</c> of an HTTP API write (DESIGN.md §4): the key as sent, the API key that
/// sent it (<paramref name="CallerId"/>, Api/ApiKeyIds — two callers' keys never meet) and the digest of the
/// validated request (<see cref="RequestHash"/>), kept beside the result so that the key reused for
/// another request is told apart from a retry.
/// </summary>
public sealed record IdempotencyKey(string CallerId, string Key, string RequestHash)
{
    /// <summary>
    /// SHA-256 of the request's validated fields, each length-prefixed so that no two lists of fields
    /// share a digest; lowercase hex (Redis scripts store it as text).
    /// </summary>
    public static string Hash(IEnumerable<string> fields)
    {
        var canonical = new StringBuilder();
        foreach (var field in fields)
        {
            canonical.Append(field.Length).Append(':').Append(field).Append(';');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}

/// <summary>What an <see cref="IIdempotencyRecords"/> holds under a key: the first request's digest and its result.</summary>
public sealed record IdempotencyRecord(string RequestHash, string Value)
{
    /// <summary>The recorded result, or 422 when the key was first used with another request.</summary>
    public string ValueFor(IdempotencyKey key) =>
        RequestHash == key.RequestHash ? Value : throw RoomException.IdempotencyKeyReused();
}

/// <summary>The writes whose idempotency records live outside any room (a room's notices keep theirs in the room).</summary>
public enum IdempotencyScope
{
    /// <summary><c>POST /api/rooms</c>: the room id and epoch chosen for the key, before the room is created.</summary>
    Rooms,

    /// <summary><c>POST /api/announcements</c>: the announcement's id, and whether it was sent.</summary>
    Announcements,
}

/// <summary>
/// The records of <c>Idempotency-Key</c>s for the writes that do not happen in one room's script (room
/// creation, whose room id is drawn first; announcements, sent through SignalR's backplane), kept per
/// API key for RoomServer:IdempotencyKeyHours. Redis: one key each on the API key's slot
/// (Redis/RedisIdempotencyRecords); embedded: in memory, bounded.
/// </summary>
public interface IIdempotencyRecords
{
    /// <summary>
    /// Records <paramref name="value"/> under the key unless a record is there, and returns the record the
    /// key now has: this request's, or an earlier one's (whose digest the caller compares). A record whose
    /// value is <paramref name="replacing"/> (and whose digest is this request's) is overwritten with
    /// <paramref name="value"/>, keeping its expiry.
    /// </summary>
    Task<IdempotencyRecord> ClaimAsync(IdempotencyScope scope, IdempotencyKey key, string value, string? replacing, CancellationToken cancellationToken);
}
