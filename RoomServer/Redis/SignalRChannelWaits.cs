using System.Collections.Concurrent;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// SignalR's channels subscribed once (its hub's <c>all</c>, group management, acks and results) that are not subscribed
/// yet: <see cref="ShardedSubscriber"/> tries each again until made. Until then an announcement or a removal sent through
/// SignalR's backplane does not reach this replica's members, so <c>/readyz</c> says the replica is not ready, and why.
/// </summary>
public sealed class SignalRChannelWaits
{
    private readonly ConcurrentDictionary<string, string> _waiting = new(StringComparer.Ordinal);

    /// <summary>The channel's subscribe failed, for <paramref name="reason"/>; it is tried again.</summary>
    public void Waiting(string channel, string reason) => _waiting[channel] = reason;

    /// <summary>The channel is subscribed.</summary>
    public void Made(string channel) => _waiting.TryRemove(channel, out _);

    /// <summary>Why the replica is not ready for SignalR's sends, or null when every such channel is subscribed.</summary>
    public string? NotReadyReason => _waiting.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w =>
        $"SignalR's backplane channel {w.Key} is not subscribed yet ({w.Value}); announcements and removals would not reach this replica's members")
        .FirstOrDefault();
}
