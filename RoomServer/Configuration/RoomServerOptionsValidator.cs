using System.Text;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Refuses to start without secrets (production never runs with a missing or short key), or with
/// settings that contradict each other, on top of the data-annotation ranges.
/// </summary>
public sealed class RoomServerOptionsValidator : IValidateOptions<RoomServerOptions>
{
    /// <summary>What a room event adds around its payload (ids, kind, time, the frame), generously.</summary>
    private const int RoomEventEnvelopeBytes = 4096;

    /// <summary>30 days: the longest an <c>Idempotency-Key</c> may be remembered.</summary>
    public const int MaxIdempotencyKeyHours = 24 * 30;

    public ValidateOptionsResult Validate(string? name, RoomServerOptions options)
    {
        var failures = new List<string>();
        if (options.ApiKeys.Count == 0 || options.ApiKeys.Any(k => k.Length < 16))
        {
            failures.Add("RoomServer:ApiKeys must hold at least one key of 16+ characters (set RoomServer__ApiKeys__0).");
        }

        // A key is sent in the X-Api-Key header, which drops surrounding whitespace and cannot carry
        // control characters: such a key could never be presented. Named by position, never echoed.
        foreach (var (key, index) in options.ApiKeys.Select((k, i) => (k, i)).Where(k => !CanBeSent(k.k)))
        {
            failures.Add($"RoomServer:ApiKeys:{index} starts or ends with whitespace, or holds a control character: a header (X-Api-Key) cannot carry it.");
        }

        if (Encoding.UTF8.GetByteCount(options.Jwt.SigningKey) < 32)
        {
            failures.Add("RoomServer:Jwt:SigningKey must be at least 32 bytes (set RoomServer__Jwt__SigningKey).");
        }

        if (string.IsNullOrWhiteSpace(options.ReplicaId) || options.ReplicaId.Contains(':', StringComparison.Ordinal))
        {
            failures.Add("RoomServer:ReplicaId must be non-empty and contain no ':'.");
        }

        foreach (var proxy in options.TrustedProxies.Where(p => !ForwardedClients.TryParse(p, out _)))
        {
            failures.Add($"RoomServer:TrustedProxies: '{proxy}' is neither an IP address (IPv4 as four decimal numbers, as usually written) nor a CIDR network (e.g. 172.16.0.0/12).");
        }

        if (options.AuditLength < options.HistoryLength)
        {
            failures.Add("RoomServer:AuditLength must be at least RoomServer:HistoryLength: Join(since) replays missed events from the audit trail.");
        }

        if (options.IdempotencyKeyHours is < 1 or > MaxIdempotencyKeyHours)
        {
            // Under an hour a client's retries (with backoff) can outlive the key; over a month the records
            // (one per keyed write, in Redis or in memory) cost more than any retry is worth.
            failures.Add($"RoomServer:IdempotencyKeyHours must be between 1 and {MaxIdempotencyKeyHours} (hours an Idempotency-Key is remembered; set RoomServer__IdempotencyKeyHours).");
        }

        if (LargestRoomTotal(options) > long.MaxValue)
        {
            failures.Add(
                $"RoomServer:MaxQuantity × RoomServer:Limits:MaxMenuItems × RoomServer:Limits:MaxMembersPerRoom × {MenuItem.MaxPriceMinor} (the highest item price) " +
                $"must stay within {long.MaxValue}: a full room's total would not fit its 64-bit totalMinor.");
        }

        if (options.Limits.MaxPendingBytesPerConnection < 2L * LargestNoticeEventBytes(options.Limits))
        {
            // One frame larger than the bound is counted as waiting the moment it is written (SignalR's pipe
            // holds it past 64 KiB), so a single notice would drop every member of the room to a resync.
            failures.Add(
                $"RoomServer:Limits:MaxPendingBytesPerConnection must be at least {2L * LargestNoticeEventBytes(options.Limits)}: twice the largest notice event " +
                "RoomServer:Limits:MaxNoticePayloadBytes allows, so one such event waiting behind another never drops a member.");
        }

        if (options.Limits.ApiRequestBurst < options.Limits.ApiRequestsPerSecond)
        {
            // The API's bucket (ASP.NET Core's token bucket) is refilled once a second and holds at most the burst:
            // a smaller burst would silently lower the rate to it, while a 429 names ApiRequestsPerSecond.
            // (The anonymous bucket's burst is twice its rate, so it cannot.)
            failures.Add(
                "RoomServer:Limits:ApiRequestBurst must be at least RoomServer:Limits:ApiRequestsPerSecond: the bucket is refilled once a second " +
                "and never holds more than the burst, so a smaller burst would be the real rate " +
                "(set RoomServer__Limits__ApiRequestBurst, or lower RoomServer__Limits__ApiRequestsPerSecond).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Every member choosing the most of every item at the highest price: what totalMinor must hold.
    private static Int128 LargestRoomTotal(RoomServerOptions options) =>
        (Int128)options.MaxQuantity * options.Limits.MaxMenuItems * options.Limits.MaxMembersPerRoom * MenuItem.MaxPriceMinor;

    // The largest room event: a notice, its payload as sent (announcements go to connections, not through the
    // room's pending count). A payload that serializes larger (escaped characters, MessagePack's numbers) can exceed it.
    private static long LargestNoticeEventBytes(LimitOptions limits) => (long)limits.MaxNoticePayloadBytes + RoomEventEnvelopeBytes;

    private static bool CanBeSent(string key) =>
        key.Length > 0 && !char.IsWhiteSpace(key[0]) && !char.IsWhiteSpace(key[^1]) && !key.Any(c => char.IsControl(c) && c != '\t');
}
