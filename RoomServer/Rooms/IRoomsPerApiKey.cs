namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// The live rooms each API key holds (RoomServer__Limits__MaxRoomsPerApiKey). A room's script may touch
/// only its own room's keys (one Redis Cluster slot), so this count cannot live in it: it is a set per
/// key beside the rooms, kept in steps — reserve before the room is created, release when it is
/// deleted or its creation failed — and pruned of rooms that no longer exist (expired, or deleted
/// with another key) whenever a key creates a room. A crash between two steps leaves one entry too
/// many until the prune finds its room gone: the count is eventually consistent, and never lets a key
/// past the limit. Two implementations: embedded (memory) and Redis.
/// </summary>
public interface IRoomsPerApiKey
{
    /// <summary>
    /// Counts the key's live rooms and, below <paramref name="max"/>, records <paramref name="roomId"/>
    /// (expiring at <paramref name="expiresAt"/> unless it is used). False when the key is at the limit.
    /// </summary>
    Task<bool> TryReserveAsync(string keyId, string roomId, DateTimeOffset expiresAt, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a room the key made already, without the limit check (a set add; a room held stays as it is):
    /// an <c>Idempotency-Key</c> retry finding its room puts it back if a request alongside forgot it.
    /// </summary>
    Task HoldAsync(string keyId, string roomId, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Forgets a room of the key (deleted, or never created).</summary>
    Task ReleaseAsync(string keyId, string roomId, CancellationToken cancellationToken);

    /// <summary>The refusal: the key's own usage, which drops as its rooms end, so <c>rate_limited</c>.</summary>
    static RoomException AtLimit(int max) =>
        new(RoomErrorCodes.RateLimited, $"this API key already has {max} live rooms, the most it may have; delete one or let one expire");
}
