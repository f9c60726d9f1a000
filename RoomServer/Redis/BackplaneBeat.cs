using System.Diagnostics;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// One heartbeat channel of <see cref="BackplaneHeartbeat"/> (classic, or sharded on the slots of one
/// master) and what it has heard. A reshard may give its master other slot ranges
/// (<see cref="Reassign"/>), or move its channel's slot to another master: then its master gets a new
/// beat that carries on from this one (<see cref="Succeeding"/>), deafness and all.
/// </summary>
internal sealed class BackplaneBeat
{
    // Hearing a beat and judging one late are one step each: a beat heard just as it was judged late must not leave
    // the beat deaf until the next one (writes refused, /readyz failing, every room re-subscribed for nothing).
    private readonly Lock _judging = new();
    private long _lastHeard = Stopwatch.GetTimestamp();

    // When the oldest beat not yet heard back was sent (0: none outstanding). Deafness is measured
    // from a beat actually sent, not from the last one heard: a replica too busy to send its beats
    // on time (a starved thread pool, a paused process) has not shown it cannot hear.
    private long _unansweredSince;
    private int _deaf;
    private int _heardOnce;
    private volatile MasterSlots _master;
    private string? _lastPayload;

    /// <summary>A beat never heard yet; <paramref name="slots"/> empty for the classic (unsharded) beat.</summary>
    public BackplaneBeat(RedisChannel channel, int channelSlot, IReadOnlyList<SlotRange> slots)
    {
        Channel = channel;
        ChannelName = channel.ToString();
        ChannelSlot = channelSlot;
        _master = new MasterSlots(slots);
    }

    public RedisChannel Channel { get; }

    /// <summary>The channel as text, made once: every room tick asks for its shard by it.</summary>
    public string ChannelName { get; }

    /// <summary>The hash slot of the channel: the master serving it is the one this beat checks.</summary>
    public int ChannelSlot { get; }

    public bool IsClassic => _master.Ranges.Count == 0;

    /// <summary>The slot ranges of the master it checks, as last known.</summary>
    public MasterSlots Master => _master;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Its re-makes after a beat heard twice: one at a time, spaced out.</summary>
    public ReseatGate Reseats { get; } = new();

    public ChannelMessageQueue? Queue { get; set; }

    public bool HeardOnce => Volatile.Read(ref _heardOnce) == 1;

    public TimeSpan SinceLastHeard => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastHeard));

    /// <summary>How long the oldest beat not yet heard back has been on its way (zero when none is).</summary>
    public TimeSpan UnansweredFor => Interlocked.Read(ref _unansweredSince) is var since and not 0 ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;

    /// <summary>A beat on a new channel for <paramref name="slots"/> that goes on from <paramref name="previous"/>: heard, deaf or waiting as it was.</summary>
    public static BackplaneBeat Succeeding(BackplaneBeat previous, RedisChannel channel, int channelSlot, IReadOnlyList<SlotRange> slots)
    {
        var beat = new BackplaneBeat(channel, channelSlot, slots);
        Interlocked.Exchange(ref beat._lastHeard, Interlocked.Read(ref previous._lastHeard));
        Interlocked.Exchange(ref beat._unansweredSince, Interlocked.Read(ref previous._unansweredSince));
        Volatile.Write(ref beat._deaf, Volatile.Read(ref previous._deaf));
        Volatile.Write(ref beat._heardOnce, Volatile.Read(ref previous._heardOnce));
        return beat;
    }

    /// <summary>Its master's ranges changed (a reshard) while the channel's slot stayed with it.</summary>
    public void Reassign(MasterSlots master) => _master = master;

    public bool IsHearing(TimeSpan deafAfter) => Volatile.Read(ref _deaf) == 0 && UnansweredFor < deafAfter;

    /// <summary>A beat is about to go out: the clock starts unless an earlier beat is still outstanding.</summary>
    public void Sending() => Interlocked.CompareExchange(ref _unansweredSince, Stopwatch.GetTimestamp(), 0);

    public bool Serves(int slot) => _master.Contains(slot);

    /// <summary>
    /// True for a second copy of the beat heard last: each beat is published once, so its channel is subscribed twice. One
    /// queue hands this beat's messages over one at a time.
    /// </summary>
    public bool IsCopy(RedisValue beat)
    {
        var text = (string?)beat;
        if (text is not null && text == _lastPayload)
        {
            return true;
        }

        _lastPayload = text;
        return false;
    }

    /// <summary>Records a beat; true when it ends a deaf spell.</summary>
    public bool Heard()
    {
        lock (_judging)
        {
            Interlocked.Exchange(ref _lastHeard, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref _unansweredSince, 0);
            Volatile.Write(ref _heardOnce, 1);
            return Interlocked.Exchange(ref _deaf, 0) == 1;
        }
    }

    /// <summary>
    /// Deaf when the oldest beat not heard back has been on its way <paramref name="deafAfter"/> or longer, checked and
    /// recorded in one step with <see cref="Heard"/>. <c>Silent</c>: it has; <c>StartsSpell</c>: this starts a deaf spell.
    /// </summary>
    public (bool Silent, bool StartsSpell) JudgeSilence(TimeSpan deafAfter)
    {
        lock (_judging)
        {
            return UnansweredFor < deafAfter ? (false, false) : (true, Interlocked.Exchange(ref _deaf, 1) == 0);
        }
    }
}
