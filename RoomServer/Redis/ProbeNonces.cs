using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// The probes a replica awaits on its channels, each kept a moment after it came back: a probe heard twice shows its
/// channel subscribed twice on this replica's connection, on two nodes of its shard (the client library's race after a
/// failover, <see cref="RedisConnection.UnsubscribeEverywhereAsync"/>), and <see cref="Heard"/> says whose probe it was.
/// Another replica's probe is not found here and is ignored.
/// </summary>
internal sealed class ProbeNonces<TOwner>
{
    /// <summary>How long a probe heard waits for a copy: the second node hears it one cluster-bus hop later.</summary>
    private static readonly TimeSpan CopyWindow = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Probe> _probes = new(StringComparer.Ordinal);

    /// <summary>A new probe's nonce, to publish; <paramref name="arrived"/> completes when it comes back.</summary>
    public string Open(TOwner owner, out Task arrived)
    {
        var nonce = RoomChannelProtocol.ProbePrefix + Guid.NewGuid().ToString("N");
        var probe = new Probe(owner);
        _probes[nonce] = probe;
        arrived = probe.Arrived.Task;
        return nonce;
    }

    /// <summary>Done waiting: a probe that never came back is forgotten at once, one that did after the copy window.</summary>
    public void Close(string nonce)
    {
        if (_probes.TryGetValue(nonce, out var probe) && probe.Arrived.Task.IsCompleted)
        {
            _ = ForgetLaterAsync(nonce);
        }
        else
        {
            _probes.TryRemove(nonce, out _);
        }
    }

    /// <summary>
    /// A probe heard on a channel: ours completes its wait the first time. True (with its owner) for its second copy: the
    /// owner's channel is subscribed twice.
    /// </summary>
    public bool Heard(string nonce, [MaybeNullWhen(false)] out TOwner owner)
    {
        owner = default;
        if (!_probes.TryGetValue(nonce, out var probe))
        {
            return false;
        }

        var arrivals = Interlocked.Increment(ref probe.Arrivals);
        if (arrivals == 1)
        {
            probe.Arrived.TrySetResult();
        }

        owner = probe.Owner;
        return arrivals == 2;
    }

    private async Task ForgetLaterAsync(string nonce)
    {
        await Task.Delay(CopyWindow);
        _probes.TryRemove(nonce, out _);
    }

    private sealed class Probe(TOwner owner)
    {
        public TOwner Owner { get; } = owner;

        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Arrivals;
    }
}
