using System.Diagnostics;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Degraded mode's detector (DESIGN.md §2, §9): the replica checks its room backplane end to end.
/// Every <c>HeartbeatMilliseconds</c> it publishes a beat on a channel of its own, through the
/// interactive connection like the scripts' events, and must hear it back through its subscription
/// connection like room events. A subscription that silently stops delivering (a stalled socket, a
/// lost server-side subscription) is invisible to the connection's own health; the beat is not.
/// A beat sent and not heard back within <see cref="DeafAfterBeats"/> beats' time → the replica is
/// deaf (a replica too busy to send on time is not): <c>/readyz</c> fails,
/// writes answer <c>unavailable</c> (<see cref="EnsureHearing(string)"/>), and it re-subscribes its
/// rooms and its beat. When a beat comes back it raises the backplane's <c>Restored</c>, so members
/// are sent their position and catch up on whatever they missed.
/// With sharded pub/sub on a Redis Cluster, a room's channel lives on its slot's master and each
/// master is reached through a subscription connection of its own, so one beat checks one shard:
/// there is one beat per master, on a sharded channel whose slot that master serves (chosen when the
/// beats start). Deafness is then per shard: a write is refused only when its room's shard is deaf,
/// so a failover of one master never stops the others' rooms; <c>/readyz</c> needs every shard.
/// A reshard changes which slots each master serves (a master may be added, or lose all its slots):
/// each beat checks that the masters' slot ranges are still those its beats were made for, and makes
/// a new beat for each master whose ranges changed (a failover keeps the ranges, and the beats).
/// </summary>
public sealed class BackplaneHeartbeat(
    RedisConnection redis,
    RedisBackplane backplane,
    IOptions<RoomServerOptions> options,
    ILogger<BackplaneHeartbeat> logger) : BackgroundService
{
    /// <summary>Beats that may go missing (a busy box, a slow Redis) before the replica calls itself deaf.</summary>
    public const int DeafAfterBeats = 3;

    /// <summary>Candidate hash tags tried per master to find a channel on its slots (a third of slots each: a few tries).</summary>
    private const int MaxTagTries = 100_000;

    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);

    // A nonce per process: two processes started with one ReplicaId must not hear each other's beats.
    private readonly string _nonce = Guid.NewGuid().ToString("N");
    private readonly long _started = Stopwatch.GetTimestamp();
    private volatile List<Beat> _beats = [];

    /// <summary>Whether every beat came back recently (true before the first deadline passes).</summary>
    public bool IsHearing => _beats is { Count: > 0 } beats
        ? beats.All(b => b.IsHearing(DeafAfter))
        : Stopwatch.GetElapsedTime(_started) < DeafAfter;

    /// <summary>
    /// Ready means every beat has come back at all, and recently: until they do, the replica has not
    /// shown it can hear (writes are still taken during the first beats' grace).
    /// </summary>
    public bool IsVerified => _beats is { Count: > 0 } beats && beats.All(b => b.HeardOnce && b.IsHearing(DeafAfter));

    /// <summary>How long ago the beat heard least recently came back.</summary>
    public TimeSpan SinceLastHeard => _beats is { Count: > 0 } beats ? beats.Max(b => b.SinceLastHeard) : Stopwatch.GetElapsedTime(_started);

    private TimeSpan DeafAfter => _interval * DeafAfterBeats;

    /// <summary>Refuses a write to <paramref name="roomId"/> while its shard's beat is silent: nobody here would hear its event.</summary>
    public void EnsureHearing(string roomId)
    {
        var beats = _beats;
        var hearing = beats.Count switch
        {
            0 => IsHearing,
            1 => beats[0].IsHearing(DeafAfter),
            _ => (beats.FirstOrDefault(b => b.Serves(redis.HashSlot(RedisKeys.Meta(roomId)))) is { } beat)
                ? beat.IsHearing(DeafAfter)
                : IsHearing,
        };
        if (!hearing)
        {
            throw RoomException.UnavailableBeforeSending("this replica cannot hear the room backplane right now; nothing was changed — retry (with the same opId)");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        var beat = 0L;
        try
        {
            do
            {
                ++beat;

                // Every shard at once: a dead master's beat may wait out the store deadline (and
                // re-subscribe), which must not make the healthy shards' beats late and them "deaf".
                var number = beat;
                await Task.WhenAll(EnsureBeats().Select(one => BeatAsync(one, number)));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>
    /// The beats, made once the topology is known: one classic channel, or one sharded channel per
    /// master — made again for the masters whose slot ranges changed since.
    /// </summary>
    private List<Beat> EnsureBeats()
    {
        if (_beats.Count > 0)
        {
            return _beats[0].Slots.Count == 0 ? _beats : FollowReshard(_beats);
        }

        RedisTopology topology;
        try
        {
            topology = redis.Topology;
        }
        catch (RoomException)
        {
            return []; // Redis not reached yet: /readyz says so; the grace runs out and the replica is deaf.
        }

        if (!topology.ShardedPubSub)
        {
            _beats = [new Beat(RedisKeys.Heartbeat(options.Value.ReplicaId, _nonce), [], heardOnce: false)];
            return _beats;
        }

        var beats = redis.MasterSlotRanges().Select(slots => BeatFor(slots, heardOnce: false)).OfType<Beat>().ToList();
        if (beats.Count > 0)
        {
            _beats = beats;
        }

        return beats;
    }

    /// <summary>
    /// The beats for the masters' slot ranges as the library knows them now: a beat whose master's
    /// ranges are unchanged stays as it is; a master whose ranges are new gets a new beat, counted as
    /// heard (this replica was hearing that shard, and readiness must not flap at every slot a reshard
    /// moves — a new channel never heard still makes the shard deaf in time); a beat no master's
    /// ranges match any more is unsubscribed.
    /// </summary>
    private List<Beat> FollowReshard(List<Beat> beats)
    {
        // Distinct: mid-failover the library may list a failed master and its promoted replica with the same slots.
        var masters = redis.MasterSlotRanges().DistinctBy(Beat.Signature).ToList();
        if (masters.Count == 0 || (masters.Count == beats.Count && masters.All(slots => beats.Any(b => b.HasSlots(slots)))))
        {
            return beats;
        }

        var rebuilt = masters.Select(slots => beats.FirstOrDefault(b => b.HasSlots(slots)) ?? BeatFor(slots, heardOnce: true)).OfType<Beat>().ToList();
        var dropped = beats.Where(b => !rebuilt.Contains(b)).ToList();
        _beats = rebuilt;
        RedisLog.HeartbeatsFollowedReshard(logger, redis.ReplicaId, rebuilt.Count(b => !beats.Contains(b)), dropped.Count);
        foreach (var beat in dropped)
        {
            _ = DropSubscriptionAsync(beat);
        }

        return rebuilt;
    }

    /// <summary>A beat on a sharded channel whose slot is one of <paramref name="slots"/> (null if no tag finds one).</summary>
    private Beat? BeatFor(IReadOnlyList<SlotRange> slots, bool heardOnce)
    {
        for (var tag = 0; tag < MaxTagTries; tag++)
        {
            var channel = RedisKeys.ShardHeartbeat(tag, options.Value.ReplicaId, _nonce);
            var slot = redis.HashSlot(channel.ToString());
            if (slots.Any(r => slot >= r.From && slot <= r.To))
            {
                return new Beat(channel, slots, heardOnce);
            }
        }

        return null;
    }

    private async Task BeatAsync(Beat beat, long count)
    {
        var silentFor = beat.UnansweredFor;
        if (silentFor >= DeafAfter)
        {
            BecomeDeaf(beat, silentFor);

            // Every further DeafAfterBeats beats of silence, start over: a fresh subscription for the
            // beat, and a re-subscription pass over every room (it verifies each with a probe).
            if (count % DeafAfterBeats == 0)
            {
                await DropSubscriptionAsync(beat);
                backplane.ResubscribeAll();
            }
        }

        try
        {
            // The clock starts before the subscription is (re)made: a replica that cannot subscribe
            // cannot hear either.
            beat.Sending();
            await EnsureSubscribedAsync(beat);
            await redis.PublishAsync(beat.Channel, RoomChannelProtocol.ProbePrefix + count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (RoomException)
        {
            // Redis (or this shard's master) is away: /readyz already says so, and the next beat tries again.
        }
    }

    private void OnBeatHeard(Beat beat)
    {
        if (beat.Heard())
        {
            RedisLog.BackplaneHearing(logger, redis.ReplicaId);
            backplane.RaiseRestored();
        }
    }

    private void BecomeDeaf(Beat beat, TimeSpan silentFor)
    {
        if (beat.BecomeDeaf())
        {
            RedisLog.BackplaneDeaf(logger, redis.ReplicaId, silentFor.TotalMilliseconds);
            backplane.ResubscribeAll();
        }
    }

    private async Task EnsureSubscribedAsync(Beat beat)
    {
        await beat.Gate.WaitAsync();
        try
        {
            if (beat.Queue is null)
            {
                var queue = await redis.CallAsync("subscribe", () => redis.Subscriber.SubscribeAsync(beat.Channel));
                queue.OnMessage(_ => OnBeatHeard(beat));
                beat.Queue = queue;
            }
        }
        finally
        {
            beat.Gate.Release();
        }
    }

    private async Task DropSubscriptionAsync(Beat beat)
    {
        await beat.Gate.WaitAsync();
        try
        {
            beat.Queue = null;

            // Every handler of the beat's channel goes, even when Redis cannot be told: the library
            // drops them locally first, and the server's side dies with its connection.
            await redis.Subscriber.UnsubscribeAsync(beat.Channel).WaitAsync(_interval);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or RoomException)
        {
            // Gone locally already.
        }
        finally
        {
            beat.Gate.Release();
        }
    }

    /// <summary>One heartbeat channel (classic, or sharded on the slots of one master) and what it has heard.</summary>
    private sealed class Beat(RedisChannel channel, IReadOnlyList<SlotRange> slots, bool heardOnce)
    {
        private long _lastHeard = Stopwatch.GetTimestamp();

        // When the oldest beat not yet heard back was sent (0: none outstanding). Deafness is measured
        // from a beat actually sent, not from the last one heard: a replica too busy to send its beats
        // on time (a starved thread pool, a paused process) has not shown it cannot hear.
        private long _unansweredSince;
        private int _deaf;
        private int _heardOnce = heardOnce ? 1 : 0;

        public RedisChannel Channel { get; } = channel;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ChannelMessageQueue? Queue { get; set; }

        public bool HeardOnce => Volatile.Read(ref _heardOnce) == 1;

        public TimeSpan SinceLastHeard => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastHeard));

        /// <summary>How long the oldest beat not yet heard back has been on its way (zero when none is).</summary>
        public TimeSpan UnansweredFor => Interlocked.Read(ref _unansweredSince) is var since and not 0 ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;

        public bool IsHearing(TimeSpan deafAfter) => Volatile.Read(ref _deaf) == 0 && UnansweredFor < deafAfter;

        /// <summary>A beat is about to go out: the clock starts unless an earlier beat is still outstanding.</summary>
        public void Sending() => Interlocked.CompareExchange(ref _unansweredSince, Stopwatch.GetTimestamp(), 0);

        /// <summary>The slot ranges of the master it was made for (none: the classic beat).</summary>
        public IReadOnlyList<SlotRange> Slots => slots;

        public bool Serves(int slot) => slots.Any(r => slot >= r.From && slot <= r.To);

        /// <summary>Whether it was made for exactly these ranges.</summary>
        public bool HasSlots(IReadOnlyList<SlotRange> ranges) => Signature(ranges) == Signature(slots);

        /// <summary>A master's slot ranges as one comparable string, in slot order.</summary>
        public static string Signature(IReadOnlyList<SlotRange> ranges) =>
            string.Join(',', ranges.OrderBy(r => r.From).Select(r => r.ToString()));

        /// <summary>Records a beat; true when it ends a deaf spell.</summary>
        public bool Heard()
        {
            Interlocked.Exchange(ref _lastHeard, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref _unansweredSince, 0);
            Volatile.Write(ref _heardOnce, 1);
            return Interlocked.Exchange(ref _deaf, 0) == 1;
        }

        /// <summary>True when this starts a deaf spell.</summary>
        public bool BecomeDeaf() => Interlocked.Exchange(ref _deaf, 1) == 0;
    }
}
