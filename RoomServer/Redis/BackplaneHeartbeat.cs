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
/// there is one beat per master, on a sharded channel whose slot that master serves. Deafness is then
/// per shard: a write is refused only when its room's shard is deaf, so a failover of one master never
/// stops the others' rooms; <c>/readyz</c> needs every shard. A reshard changes which slots each
/// master serves (a master may be added, or lose all its slots): each beat matches the beats to the
/// masters again when their ranges changed (<see cref="FollowReshard"/>; a failover keeps the ranges,
/// and the beats). A beat heard twice shows its channel subscribed on two nodes of its shard (the client
/// library's race after a failover): it is dropped with the copy unsubscribed, and the next beat subscribes again.
/// </summary>
public sealed class BackplaneHeartbeat(
    RedisConnection redis,
    RedisBackplane backplane,
    IOptions<RoomServerOptions> options,
    ILogger<BackplaneHeartbeat> logger) : BackgroundService
{
    /// <summary>Beats that may go missing (a busy box, a slow Redis) before the replica calls itself deaf.</summary>
    public const int DeafAfterBeats = 3;

    /// <summary>Hash slots of a cluster: a beat channel's tag is chosen so its slot is one its master serves.</summary>
    private const int Slots = 16384;

    // For each slot, the smallest tag whose beat channel hashes to it: made once (a few hundred
    // thousand hashes), so a master with a single slot always gets a channel, found at once.
    private int[]? _tagBySlot;

    /// <summary>A bound on that search: every slot turns up within about 200 000 tags.</summary>
    private const int MaxTags = 10_000_000;

    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);

    // A nonce per process: two processes started with one ReplicaId must not hear each other's beats.
    private readonly string _nonce = Guid.NewGuid().ToString("N");
    private readonly long _started = Stopwatch.GetTimestamp();
    private volatile List<BackplaneBeat> _beats = [];

    // The masters' slot ranges the beats were last made or matched for, so an unchanged cluster costs a compare.
    private string _mastersSignature = "";

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

    /// <summary>
    /// The shard serving <paramref name="roomId"/>, named by its beat's channel (one beat per master; one
    /// beat for a single Redis, which is one shard); null before the first beat.
    /// </summary>
    public string? ShardOf(string roomId)
    {
        var beats = _beats;
        return beats.Count switch
        {
            0 => null,
            1 => beats[0].ChannelName,
            _ => BeatServing(beats, roomId)?.ChannelName,
        };
    }

    // A loop, not a LINQ search: it runs for every write and every room tick, and a lambda capturing the room allocates each time.
    private BackplaneBeat? BeatServing(List<BackplaneBeat> beats, string roomId)
    {
        var slot = redis.HashSlot(RedisKeys.Meta(roomId));
        foreach (var beat in beats)
        {
            if (beat.Serves(slot))
            {
                return beat;
            }
        }

        return null;
    }

    /// <summary>Refuses a write to <paramref name="roomId"/> while its shard's beat is silent: nobody here would hear its event.</summary>
    public void EnsureHearing(string roomId)
    {
        var beats = _beats;
        var hearing = beats.Count switch
        {
            0 => IsHearing,
            1 => beats[0].IsHearing(DeafAfter),
            _ => BeatServing(beats, roomId) is { } beat
                ? beat.IsHearing(DeafAfter)
                : IsHearing,
        };
        if (!hearing)
        {
            throw RoomException.UnavailableBeforeSending("this replica cannot hear the room backplane right now; nothing was changed — retry with the same opId (a hub call) or Idempotency-Key (an HTTP POST)");
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
    /// master — and on a cluster matched again to the masters whenever their slot ranges change.
    /// </summary>
    private List<BackplaneBeat> EnsureBeats()
    {
        if (_beats.Count > 0)
        {
            return _beats[0].IsClassic ? _beats : FollowReshard(_beats);
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
            var channel = RedisKeys.Heartbeat(options.Value.ReplicaId, _nonce);
            _beats = [new BackplaneBeat(channel, 0, [])];
            return _beats;
        }

        return FollowReshard([]);
    }

    /// <summary>
    /// Matches the beats to the masters' slot ranges as the library knows them now (a reshard moves
    /// slots, adds or empties masters; a failover keeps the ranges). A master keeps the beat whose
    /// channel slot it serves (of several, the one that checked most of its slots) with its ranges
    /// updated; a master with none gets a new channel on its slots, carrying on from the beat that
    /// checked most of them: deaf if that one was, and trusted as it was (so readiness does not flap at
    /// every slot a reshard moves) — a new channel that is never heard makes the shard deaf within
    /// <see cref="DeafAfterBeats"/> beats all the same. At start-up no beat has been heard yet. Beats no
    /// master keeps are unsubscribed.
    /// </summary>
    private List<BackplaneBeat> FollowReshard(List<BackplaneBeat> beats)
    {
        // Distinct: mid-failover the library may list a failed master and its promoted replica with the same slots.
        var masters = redis.MasterSlotRanges().Select(r => new MasterSlots(r)).DistinctBy(m => m.Signature).ToList();
        var signature = string.Join(' ', masters.Select(m => m.Signature).Order(StringComparer.Ordinal));
        if (masters.Count == 0 || signature == _mastersSignature)
        {
            return beats;
        }

        var before = beats.ToDictionary(b => b, b => b.Master);
        var followed = new List<BackplaneBeat>();
        var reassigned = new List<(BackplaneBeat Beat, MasterSlots Master)>();
        var made = 0;
        foreach (var master in masters)
        {
            var kept = beats.Where(b => !followed.Contains(b) && master.Contains(b.ChannelSlot)).MaxBy(b => before[b].Overlap(master));
            if (kept is not null)
            {
                reassigned.Add((kept, master));
                followed.Add(kept);
                continue;
            }

            var predecessor = beats.Where(b => before[b].Overlap(master) > 0).MaxBy(b => before[b].Overlap(master));
            if (BeatFor(master, predecessor) is { } beat)
            {
                followed.Add(beat);
                made++;
            }
        }

        var dropped = beats.Where(b => !followed.Contains(b)).ToList();
        // The new list first, then the kept beats' new ranges: until then a moved slot is still served
        // by its old beat, never by none.
        _beats = followed;
        _mastersSignature = signature;
        foreach (var (beat, master) in reassigned)
        {
            beat.Reassign(master);
        }

        if (beats.Count > 0 && made + dropped.Count > 0)
        {
            RedisLog.HeartbeatsFollowedReshard(logger, redis.ReplicaId, made, dropped.Count);
        }

        foreach (var gone in dropped)
        {
            _ = DropSubscriptionAsync(gone);
        }

        return followed;
    }

    /// <summary>
    /// A beat on a sharded channel whose slot <paramref name="master"/> serves (the smallest such tag),
    /// going on from <paramref name="predecessor"/> if there is one.
    /// </summary>
    private BackplaneBeat? BeatFor(MasterSlots master, BackplaneBeat? predecessor)
    {
        var tagBySlot = _tagBySlot ??= TagsBySlot();
        var tags = master.Ranges.SelectMany(r => Enumerable.Range(r.From, r.To - r.From + 1)).Select(slot => tagBySlot[slot]).Where(t => t >= 0).ToList();
        if (tags.Count == 0)
        {
            return null; // Not seen with any tag (never so far): its rooms are judged by every beat together (IsHearing).
        }

        var tag = tags.Min();
        var channel = RedisKeys.ShardHeartbeat(tag, options.Value.ReplicaId, _nonce);
        var slot = redis.HashSlot(channel.ToString());
        return predecessor is null
            ? new BackplaneBeat(channel, slot, master.Ranges)
            : BackplaneBeat.Succeeding(predecessor, channel, slot, master.Ranges);
    }

    private int[] TagsBySlot()
    {
        var tags = new int[Slots];
        Array.Fill(tags, -1);
        for (int tag = 0, found = 0; found < Slots && tag < MaxTags; tag++)
        {
            var slot = redis.HashSlot(RedisKeys.ShardHeartbeat(tag, options.Value.ReplicaId, _nonce).ToString());
            if (tags[slot] < 0)
            {
                tags[slot] = tag;
                found++;
            }
        }

        return tags;
    }

    private async Task BeatAsync(BackplaneBeat beat, long count)
    {
        var silentFor = beat.UnansweredFor;
        var (silent, startsSpell) = beat.JudgeSilence(DeafAfter);
        try
        {
            if (silent)
            {
                if (startsSpell)
                {
                    RedisLog.BackplaneDeaf(logger, redis.ReplicaId, silentFor.TotalMilliseconds);
                    backplane.ResubscribeAll();
                }

                // Every further DeafAfterBeats beats of silence, start over: a fresh subscription for the
                // beat, and a re-subscription pass over every room (it verifies each with a probe).
                if (count % DeafAfterBeats == 0)
                {
                    await DropSubscriptionAsync(beat);
                    backplane.ResubscribeAll();
                }
            }

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

    private void OnBeatHeard(BackplaneBeat beat, RedisValue message)
    {
        if (beat.IsCopy(message))
        {
            if (!beat.IsClassic && beat.Reseats.TryBegin())
            {
                _ = ReseatAsync(beat);
            }

            return;
        }

        if (beat.Heard())
        {
            RedisLog.BackplaneHearing(logger, redis.ReplicaId);
            backplane.RaiseRestored();
        }
    }

    private async Task EnsureSubscribedAsync(BackplaneBeat beat)
    {
        await beat.Gate.WaitAsync();
        try
        {
            if (beat.Queue is null)
            {
                // A failed subscribe leaves no queue behind, or every later beat would be kept in it for good.
                var queue = await redis.SubscribeQueueAsync(beat.Channel);
                queue.OnMessage(message => OnBeatHeard(beat, message.Message));
                beat.Queue = queue;
            }
        }
        finally
        {
            beat.Gate.Release();
        }
    }

    /// <summary>
    /// A beat heard twice: its channel is subscribed on two nodes of its shard (the client library's race after a failover,
    /// RedisConnection.UnsubscribeEverywhereAsync). Dropped, with the copy on a replica unsubscribed; the next beat
    /// subscribes it again.
    /// </summary>
    private async Task ReseatAsync(BackplaneBeat beat)
    {
        RedisLog.ChannelHeardTwice(logger, redis.ReplicaId, beat.ChannelName);
        try
        {
            await beat.Gate.WaitAsync();
            try
            {
                if (beat.Queue is not null)
                {
                    // Half a beat per step: the next beat waits on the gate, and its shard is deaf after three.
                    beat.Queue = null;
                    await redis.UnsubscribeEverywhereAsync(beat.Channel, _interval / 2);
                }
            }
            finally
            {
                beat.Gate.Release();
            }
        }
        catch (RoomException)
        {
            // The connection is gone (shutting down): nothing left to re-make.
        }
        finally
        {
            beat.Reseats.End();
        }
    }

    private async Task DropSubscriptionAsync(BackplaneBeat beat)
    {
        await beat.Gate.WaitAsync();
        try
        {
            beat.Queue = null;

            // Every handler of the beat's channel goes, even when Redis cannot be told: the library
            // drops them locally first, and the server's side dies with its connection.
            await redis.RemoveEveryHandlerAsync(beat.Channel, _interval);
        }
        finally
        {
            beat.Gate.Release();
        }
    }
}
