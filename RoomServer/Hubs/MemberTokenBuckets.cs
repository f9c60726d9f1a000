using System.Collections.Concurrent;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// One token bucket per member, for one per-replica pace: new hub connections (<see cref="MemberConnectRate"/>),
/// the store reads of calls made before Join (<see cref="NotJoinedCheckRate"/>) and Joins (<see cref="MemberJoinRate"/>)
/// each keep a set of their own. A bucket is refilled by the time since it was last used (the sums of the members'
/// write buckets, <see cref="MemberOpRate.Refill"/>) and dropped once it would be full again: a full bucket is what
/// a member without one gets. One sweep every
/// <see cref="SweepInterval"/> drops them. Time is the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).
/// <para>
/// Why not the runtime's <c>PartitionedRateLimiter</c> of token buckets: it keeps each member's bucket
/// until it has sat full for 10 s and walks them all under one lock ten times a second to refill them,
/// and a join ramp makes thousands (a member each): that walk was 5 % of a replica's CPU in W3 at
/// 1 500 joins/s (<c>perf</c>, docs/bench/ab-member-connect-buckets.md). Its buckets refill by a timer's
/// tick; refilled on use instead, a bucket that sat full hands out a whole second burst at its next
/// refill (it does not move its refill time while full).
/// </para>
/// </summary>
public sealed class MemberTokenBuckets : IDisposable
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly MemberOpRate _rate;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly ITimer _sweep;

    public MemberTokenBuckets(MemberOpRate rate, TimeProvider time)
    {
        _rate = rate;
        _time = time;
        _started = time.GetTimestamp();
        _sweep = time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    /// <summary>Buckets held now: members that connected lately and would not be full yet.</summary>
    public int Count => _buckets.Count;

    /// <summary>Takes a token from the member's bucket; false, and how long until the next token, when it is empty.</summary>
    public bool TryTake(string member, out TimeSpan retryAfter)
    {
        while (true)
        {
            var now = NowMs();
            var bucket = _buckets.GetOrAdd(member, static (_, start) => new Bucket(start.Burst, start.Now), (_rate.Burst, Now: now));
            lock (bucket)
            {
                if (bucket.Dropped)
                {
                    continue; // the sweep dropped it after we found it: take from the member's next one
                }

                // Two takes may read the clock in either order: time never runs back for a bucket.
                now = Math.Max(now, bucket.LastMs);
                var tokens = _rate.Refill(bucket.Tokens, bucket.LastMs, now);
                bucket.LastMs = now;
                if (tokens >= 1)
                {
                    bucket.Tokens = tokens - 1;
                    retryAfter = TimeSpan.Zero;
                    return true;
                }

                bucket.Tokens = tokens;
                retryAfter = TimeSpan.FromSeconds((1 - tokens) / _rate.PerSecond);
                return false;
            }
        }
    }

    /// <summary>Drops the buckets that would be full by now (under each one's lock, so no take is lost on a dropped one).</summary>
    public void Sweep()
    {
        var now = NowMs();
        foreach (var (member, bucket) in _buckets)
        {
            lock (bucket)
            {
                if (_rate.Refill(bucket.Tokens, bucket.LastMs, now) >= _rate.Burst)
                {
                    bucket.Dropped = true;
                    _buckets.TryRemove(new KeyValuePair<string, Bucket>(member, bucket));
                }
            }
        }
    }

    public void Dispose() => _sweep.Dispose();

    /// <summary>Milliseconds on the monotonic clock: a wall clock set forward would refill every bucket at once.</summary>
    private long NowMs() => (long)_time.GetElapsedTime(_started).TotalMilliseconds;

    /// <summary>Tokens left when last used; the bucket's lock guards all three.</summary>
    private sealed class Bucket(int burst, long nowMs)
    {
        public double Tokens { get; set; } = burst;

        public long LastMs { get; set; } = nowMs;

        public bool Dropped { get; set; }
    }
}
