using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// The <c>Idempotency-Key</c> request header of the API's POST writes (DESIGN.md §4; the IETF draft "The
/// Idempotency-Key HTTP Header Field", with Stripe's semantics): optional; a retry with the same key
/// within RoomServer:IdempotencyKeyHours gets the first result and applies nothing, and the key reused for
/// another request is 422 <c>invalid_argument</c>. Keys are the API key's own (and a notice's, the room's).
/// </summary>
public static class IdempotencyKeys
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>The header's value, validated before any key is built from it (DESIGN.md §5); null when absent.</summary>
    public static string? Validate(string? header) => header is null ? null : RoomIds.RequireIdempotencyKey(header);

    /// <summary>The request's key, its digest over <paramref name="requestFields"/> (the validated request); null without one.</summary>
    public static IdempotencyKey? For(string? validKey, string callerId, IEnumerable<string> requestFields) =>
        validKey is null ? null : new IdempotencyKey(callerId, validKey, IdempotencyKey.Hash(requestFields));
}
