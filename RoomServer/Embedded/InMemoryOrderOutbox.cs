using System.Globalization;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;

namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded mode's order outbox: the same semantics as the Redis streams, in memory. The store appends
/// a record under the room's lock, in the transition's own step; one record per room is handed out at a
/// time, in version order; a claim not renewed within the timeout is taken over. Nothing survives a
/// restart — that is what scaled mode is for. One lock: records are few (three transitions per room), and a room
/// keeps at most <see cref="WebhookOptions.SettledRecordsKept"/> settled ones.
/// </summary>
public sealed class InMemoryOrderOutbox(OrderOutboxSignal signal, IOptions<RoomServerOptions> options, TimeProvider time) : IOrderOutbox
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RoomOutbox> _rooms = new(StringComparer.Ordinal);
    private readonly List<DeadLetter> _deadLetters = [];
    private long _nextId;
    private long _announcements;

    /// <summary>
    /// Called by <see cref="InMemoryRoomStore"/> under the room's lock, as part of the transition. It says
    /// which rooms live, so settled outboxes are purged only once their room is gone.
    /// </summary>
    public void Append(OrderRecord record, Func<string, bool> roomIsLive)
    {
        lock (_lock)
        {
            PurgeSettled(roomIsLive);
            var outbox = Outbox(record.RoomId);
            outbox.Entries.Add(new Stored(NextId(), record.OrderId, record.Type, record.Version, record.At, record.ToJson(), null));
            outbox.Announced = ++_announcements;

            // Unsettled again: an outbox with a record to deliver is never purged, however long ago it last settled.
            outbox.SettledAt = null;
        }

        signal.Notify(record.RoomId);
    }

    /// <summary>The room's records not yet delivered or dead-lettered to every endpoint: those unread and the one held (state.lua counts so).</summary>
    public int UnsettledCount(string roomId)
    {
        lock (_lock)
        {
            return _rooms.TryGetValue(roomId, out var outbox) ? outbox.Entries.Count - outbox.NextUnread + (outbox.Held is null ? 0 : 1) : 0;
        }
    }

    public Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<OutboxRoom>>(_rooms
                .Where(r => r.Value.Held is not null || r.Value.NextUnread < r.Value.Entries.Count)
                .OrderBy(r => r.Value.Announced)
                .Select(r => new OutboxRoom(r.Key, 0))
                .Take(count)
                .ToList());
        }
    }

    public Task<long> AnnounceAsync(string roomId) => Task.FromResult(0L);

    public Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(roomId, out var outbox))
            {
                return Task.FromResult(OutboxClaim.Empty);
            }

            var now = time.GetUtcNow();
            if (outbox.Held is { } held)
            {
                if (now - held.Renewed < claimTimeout)
                {
                    return Task.FromResult(OutboxClaim.Busy(claimTimeout - (now - held.Renewed)));
                }

                outbox.Held = held with { Consumer = consumer, Renewed = now };
                return Task.FromResult(Claimed(roomId, outbox, held.Entry));
            }

            if (outbox.NextUnread >= outbox.Entries.Count)
            {
                return Task.FromResult(OutboxClaim.Empty);
            }

            var next = outbox.Entries[outbox.NextUnread++];
            outbox.Held = new Hold(next, consumer, now);
            outbox.SettledAt = null;
            return Task.FromResult(Claimed(roomId, outbox, next));
        }
    }

    /// <summary>As outbox_keep.lua: only the holder renews; a consumer whose hold was taken over learns it lost it.</summary>
    public Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer)
    {
        lock (_lock)
        {
            if (HeldBy(entry, consumer) is { } outbox)
            {
                outbox.Held = outbox.Held! with { Renewed = time.GetUtcNow() };
                return Task.FromResult(true);
            }
        }

        return Task.FromResult(false);
    }

    /// <summary>As outbox_status.lua: only the holder writes a status; one whose hold was taken over (or settled) writes nothing.</summary>
    public Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery)
    {
        lock (_lock)
        {
            if (HeldBy(entry, consumer) is not { } outbox)
            {
                return Task.FromResult(false);
            }

            outbox.Deliveries[(entry.OrderId, endpoint)] = delivery;
            return Task.FromResult(true);
        }
    }

    /// <summary>The entry's outbox while <paramref name="consumer"/> holds the entry; null otherwise. Under the lock.</summary>
    private RoomOutbox? HeldBy(OutboxEntry entry, string consumer) =>
        _rooms.TryGetValue(entry.RoomId, out var outbox) && outbox.Held is { } held && held.Entry.Id == entry.EntryId && held.Consumer == consumer
            ? outbox
            : null;

    public Task DeadLetterAsync(DeadLetter letter)
    {
        lock (_lock)
        {
            _deadLetters.Add(letter with { Id = NextId() });
        }

        return Task.CompletedTask;
    }

    public Task<bool> SettleAsync(OutboxEntry entry, string consumer)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(entry.RoomId, out var outbox) || outbox.Held?.Entry.Id != entry.EntryId)
            {
                return Task.FromResult(true); // settled before (as XACK of an acknowledged entry)
            }

            if (outbox.Held.Consumer != consumer)
            {
                return Task.FromResult(false);
            }

            outbox.Held = null;
            TrimSettled(outbox);
            if (outbox.NextUnread >= outbox.Entries.Count)
            {
                outbox.SettledAt = time.GetUtcNow();
            }

            return Task.FromResult(true);
        }
    }

    public Task ForgetAsync(OutboxRoom room) => Task.CompletedTask;

    public Task SweepAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<StoredOrderRecord>> RecordsAsync(string roomId)
    {
        lock (_lock)
        {
            if (!_rooms.TryGetValue(roomId, out var outbox))
            {
                return Task.FromResult<IReadOnlyList<StoredOrderRecord>>([]);
            }

            // As the Redis outbox: a copy for every configured endpoint (not a retried dead letter's) still to be settled.
            var awaitingEveryEndpoint = outbox.Entries
                .Where((e, index) => e.OnlyEndpoint is null && (index >= outbox.NextUnread || outbox.Held?.Entry.Id == e.Id))
                .Select(e => e.OrderId)
                .ToHashSet(StringComparer.Ordinal);
            // As the Redis outbox: a record whose own entry was trimmed, kept only as put-back copies (each for one endpoint).
            var withOwnEntry = outbox.Entries.Where(e => e.OnlyEndpoint is null).Select(e => e.OrderId).ToHashSet(StringComparer.Ordinal);
            IReadOnlyList<string>? OnlyCopiesTo(string orderId) => withOwnEntry.Contains(orderId)
                ? null
                : [.. outbox.Entries.Where(e => e.OrderId == orderId).Select(e => e.OnlyEndpoint!).Distinct(StringComparer.Ordinal)];
            return Task.FromResult<IReadOnlyList<StoredOrderRecord>>(outbox.Entries
                .DistinctBy(e => e.OrderId)
                .Select(e => new StoredOrderRecord(
                    e.OrderId, e.Type, e.Version, e.At, DeliveriesOf(outbox, e.OrderId), awaitingEveryEndpoint.Contains(e.OrderId), OnlyCopiesTo(e.OrderId)))
                .ToList());
        }
    }

    public Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string? after, int limit)
    {
        // Ids here are a counter, in the order the letters were added.
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<DeadLetter>>(
                [.. _deadLetters.Where(d => after is null || DeadLetterIds.Compare(d.Id, after) > 0).Take(limit)]);
        }
    }

    public Task<DeadLetter?> FindDeadLetterAsync(string deadLetterId)
    {
        lock (_lock)
        {
            return Task.FromResult(_deadLetters.Find(d => d.Id == deadLetterId));
        }
    }

    public Task<string?> RetryAsync(string deadLetterId)
    {
        lock (_lock)
        {
            var letter = _deadLetters.Find(d => d.Id == deadLetterId);
            if (letter is null)
            {
                return Task.FromResult<string?>(null);
            }

            _deadLetters.Remove(letter);
            var outbox = Outbox(letter.RoomId);
            outbox.Entries.Add(new Stored(NextId(), letter.OrderId, letter.Type, letter.Version, letter.At, letter.Body, letter.Endpoint));
            outbox.Announced = ++_announcements;
            outbox.Deliveries[(letter.OrderId, letter.Endpoint)] = new EndpointDelivery(DeliveryStatuses.Pending, 0, null);
            outbox.SettledAt = null;
            return Task.FromResult<string?>(letter.RoomId);
        }
    }

    /// <summary>Under the one lock, as a retry is: of a delete and a retry at once, whichever comes second finds no letter.</summary>
    public Task<bool> DeleteDeadLetterAsync(string deadLetterId)
    {
        lock (_lock)
        {
            return Task.FromResult(_deadLetters.RemoveAll(d => d.Id == deadLetterId) > 0);
        }
    }

    /// <summary>
    /// As outbox_settle.lua: past <see cref="WebhookOptions.SettledRecordsKept"/> settled entries the oldest go, with
    /// their statuses unless a put-back copy of the record (a retried dead letter, which shares them) is still kept. With
    /// nothing held, every entry read is settled: they are handed out one at a time, in order, and a copy is appended.
    /// </summary>
    private void TrimSettled(RoomOutbox outbox)
    {
        var excess = outbox.NextUnread - options.Value.Webhooks.SettledRecordsKept;
        if (excess <= 0)
        {
            return;
        }

        var trimmed = outbox.Entries.GetRange(0, excess);
        outbox.Entries.RemoveRange(0, excess);
        outbox.NextUnread -= excess;
        var gone = trimmed.Select(e => e.OrderId).Where(orderId => !outbox.Entries.Exists(e => e.OrderId == orderId)).ToHashSet(StringComparer.Ordinal);
        foreach (var key in outbox.Deliveries.Keys.Where(k => gone.Contains(k.OrderId)).ToList())
        {
            outbox.Deliveries.Remove(key);
        }
    }

    private static OutboxClaim Claimed(string roomId, RoomOutbox outbox, Stored entry) => new(ClaimOutcome.Claimed, new OutboxEntry(
        roomId, entry.Id, entry.OrderId, entry.Type, entry.Version, entry.At, entry.Body, entry.OnlyEndpoint, DeliveriesOf(outbox, entry.OrderId)));

    private static Dictionary<string, EndpointDelivery> DeliveriesOf(RoomOutbox outbox, string orderId) =>
        outbox.Deliveries.Where(d => d.Key.OrderId == orderId).ToDictionary(d => d.Key.Endpoint, d => d.Value, StringComparer.Ordinal);

    private RoomOutbox Outbox(string roomId)
    {
        if (!_rooms.TryGetValue(roomId, out var outbox))
        {
            outbox = new RoomOutbox();
            _rooms[roomId] = outbox;
        }

        return outbox;
    }

    private string NextId() => (++_nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A settled outbox (the operator view) is kept while its room lives — like the Redis outbox, whose TTL
    /// follows the room's — and at least one default room TTL after settling. One with a record still to
    /// deliver is kept whatever its room does (as state.lua PERSISTs the Redis outbox).
    /// </summary>
    private void PurgeSettled(Func<string, bool> roomIsLive)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromMinutes(options.Value.DefaultRoomTtlMinutes);
        foreach (var (roomId, outbox) in _rooms.Where(r => r.Value.SettledAt < cutoff && r.Value.IsSettled && !roomIsLive(r.Key)).ToList())
        {
            _rooms.Remove(roomId);
        }
    }

    private sealed record Stored(string Id, string OrderId, string Type, long Version, string At, string Body, string? OnlyEndpoint);

    private sealed record Hold(Stored Entry, string Consumer, DateTimeOffset Renewed);

    private sealed class RoomOutbox
    {
        public List<Stored> Entries { get; } = [];

        public int NextUnread { get; set; }

        public Hold? Held { get; set; }

        public DateTimeOffset? SettledAt { get; set; }

        /// <summary>When a record was last added (a transition's, or a retried dead letter's), in order: polls take the least recent first, as the Redis index's scores do.</summary>
        public long Announced { get; set; }

        /// <summary>Nothing held and nothing left to read: every record has been delivered or dead-lettered.</summary>
        public bool IsSettled => Held is null && NextUnread >= Entries.Count;

        public Dictionary<(string OrderId, string Endpoint), EndpointDelivery> Deliveries { get; } = [];
    }
}
