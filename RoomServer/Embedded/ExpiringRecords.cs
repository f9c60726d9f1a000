namespace RoomShare.RoomServer.Embedded;

/// <summary>
/// Embedded mode's stand-in for expiring Redis keys (the records of <c>Idempotency-Key</c>s): each record
/// lives until its own expiry, and at most <see cref="Capacity"/> are kept — past it the one due to expire
/// soonest goes first, so memory stays bounded whatever the callers send. Thread-safe (one lock).
/// </summary>
public sealed class ExpiringRecords<TValue>(TimeProvider time)
{
    /// <summary>Records kept at most (per instance): a busy API key's day of keyed writes, in a few MB.</summary>
    public const int Capacity = 100_000;

    private readonly Dictionary<string, (TValue Value, DateTimeOffset Until)> _records = new(StringComparer.Ordinal);

    // Expiry order for pruning; an entry whose key was removed and added again since is skipped when met.
    private readonly PriorityQueue<string, DateTimeOffset> _byExpiry = new();

    /// <summary>The key's unexpired value, if any.</summary>
    public bool TryGet(string key, out TValue value)
    {
        lock (_records)
        {
            var now = time.GetUtcNow();
            if (_records.TryGetValue(key, out var record) && record.Until > now)
            {
                value = record.Value;
                return true;
            }

            value = default!;
            return false;
        }
    }

    /// <summary>
    /// The key's value: the one recorded (and unexpired), or <paramref name="value"/>, added now for
    /// <paramref name="lifetime"/>. <paramref name="update"/> may replace a recorded value, its expiry kept.
    /// </summary>
    public TValue GetOrAdd(string key, TValue value, TimeSpan lifetime, Func<TValue, TValue>? update = null)
    {
        lock (_records)
        {
            var now = time.GetUtcNow();
            if (_records.TryGetValue(key, out var record) && record.Until > now)
            {
                if (update is null)
                {
                    return record.Value;
                }

                var updated = update(record.Value);
                _records[key] = (updated, record.Until);
                return updated;
            }

            Prune(now);
            var until = now + lifetime;
            _records[key] = (value, until);
            _byExpiry.Enqueue(key, until);
            return value;
        }
    }

    /// <summary>Drops expired records, then the soonest to expire while full.</summary>
    private void Prune(DateTimeOffset now)
    {
        while (_byExpiry.TryPeek(out var key, out var until) && (until <= now || _records.Count >= Capacity))
        {
            _byExpiry.Dequeue();
            if (_records.TryGetValue(key, out var record) && record.Until == until)
            {
                _records.Remove(key);
            }
        }
    }
}
