using System.Text.Json;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's removal broadcast: one channel, <c>rs-removals</c>, that every replica subscribes to once (a shard
/// channel where room channels are sharded, on its slot's master; classic otherwise; removals are rare).
/// StackExchange.Redis restores the subscription with its connection; after the room backplane's own
/// re-subscription following a loss (<see cref="RedisBackplane.RestoredAfterLoss"/>: a restored connection,
/// a failover, a replica that was deaf — and, while a cluster shard stays down, every few seconds) it is
/// probed first: a nonce published on it that comes back within <see cref="ProbeTimeout"/> shows it still
/// delivers, and it is kept — unsubscribing and subscribing again would open a gap of its own. Only one that
/// does not deliver is made again (a subscription can be lost on the server without the connection noticing).
/// Either way <see cref="Resubscribed"/> is raised: a delivering subscription may still have missed removals
/// while the connection under it was away (the library restores it silently), and only the store can say
/// (Fanout/RemovalCatchUp, spaced out to one sweep per 10 s). One attempt runs at a time (a request meanwhile
/// runs one more after it), so the handler is registered once however often the backplane restores.
/// A probe heard twice shows the channel subscribed on two nodes of its shard (the client library's race after a
/// failover, <see cref="RedisConnection.UnsubscribeEverywhereAsync"/>): the next attempt makes it again with the copy
/// unsubscribed. Removals are rare, so nothing else would show such a copy: each attempt is followed by one more
/// probe a moment later (<see cref="SecondLook"/>).
/// </summary>
public sealed class RedisMemberRemovalBroadcast(
    RedisConnection redis,
    RedisBackplane backplane,
    ReplicaShutdown shutdown,
    ILogger<RedisMemberRemovalBroadcast> logger) : IMemberRemovalBroadcast, IHostedService
{
    /// <summary>The channel as named; made a shard channel where room channels are sharded (<see cref="Channel"/>).</summary>
    public static readonly RedisChannel Name = RedisChannel.Literal("rs-removals");

    /// <summary>The channel on this topology: every replica of a deployment decides it alike (RedisTopology).</summary>
    private RedisChannel Channel => ShardedChannels.For(Name, redis.Topology.ShardedPubSub);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    /// <summary>What of an unreadable message the log shows: anyone who can reach Redis can publish on the channel.</summary>
    private const int LoggedCharacters = 200;

    /// <summary>The subscription attempts: one at a time, however often the backplane restores; a fault releases it.</summary>
    private readonly SingleFlight _attempts = new(ex => RedisLog.RemovalChannelAttemptCrashed(logger, ex), shutdown.Token);

    /// <summary>Set once the channel has been subscribed: before that there is nothing to probe.</summary>
    private bool _subscribed;

    /// <summary>Probe nonces awaited, completed when heard back (any replica's probe is ignored on arrival).</summary>
    private readonly ProbeNonces<RedisChannel> _probes = new();

    /// <summary>A probe came back twice: the next attempt re-makes the subscription with the copy on a replica unsubscribed.</summary>
    private int _heardTwice;

    private readonly ReseatGate _reseats = new();

    /// <summary>Removals are rare, so no removal would show a copy: each attempt is followed by one more probe.</summary>
    private readonly SecondLook _secondLook = new(ex => RedisLog.RemovalChannelAttemptCrashed(logger, ex), shutdown.Token);

    public event Action<MemberRemovedNotice>? Heard;

    public event Action? Resubscribed;

    public async Task PublishAsync(MemberRemovedNotice removal) =>
        await redis.PublishAsync(Channel, JsonSerializer.SerializeToUtf8Bytes(removal, WebJson));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        backplane.RestoredAfterLoss += Resubscribe;

        // In the background: Redis may be away at start-up, and the replica starts all the same.
        Resubscribe();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        backplane.RestoredAfterLoss -= Resubscribe;
        return Task.CompletedTask;
    }

    private void Resubscribe() => _attempts.Request(AttemptAsync);

    /// <summary>
    /// One attempt: probe a subscription this replica has, make one it lacks or that no longer delivers — or, when a probe
    /// came back twice, make it again with the copy on a replica unsubscribed. Then a second look, a moment later.
    /// </summary>
    private async Task AttemptAsync()
    {
        try
        {
            await AttemptOnceAsync();
        }
        finally
        {
            _secondLook.Request(LookAgainAsync);
        }
    }

    private async Task AttemptOnceAsync()
    {
        // Spaced out (ReseatGate): until then the flag stays set, a copy heard meanwhile asks for nothing more, and the
        // second look asks again.
        if (Volatile.Read(ref _heardTwice) == 1 && _subscribed && _reseats.TryBegin())
        {
            Volatile.Write(ref _heardTwice, 0);
            try
            {
                RedisLog.ChannelHeardTwice(logger, redis.ReplicaId, Channel.ToString());
                _subscribed = false;
                await redis.UnsubscribeEverywhereAsync(Channel, ProbeTimeout);
            }
            finally
            {
                _reseats.End();
            }
        }

        if (_subscribed && await ProbeAsync())
        {
            // Still delivering: kept. The catch-up still runs, for what a silently restored connection missed.
            Resubscribed?.Invoke();
        }
        else if (await SubscribeUntilDoneAsync())
        {
            // Subscribed first, then caught up: a removal published after this is heard, and one
            // published before it is already in the store.
            _subscribed = true;
            Resubscribed?.Invoke();
        }
    }

    /// <summary>Publishes a nonce on the channel and waits for it to come back to this replica's handler.</summary>
    private async Task<bool> ProbeAsync()
    {
        var channel = Channel;
        var nonce = _probes.Open(channel, out var arrived);
        try
        {
            await redis.PublishAsync(channel, nonce);
            await arrived.WaitAsync(ProbeTimeout);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or RoomException or RedisException)
        {
            return false;
        }
        finally
        {
            _probes.Close(nonce);
        }
    }

    /// <summary>
    /// The second look after an attempt: a probe that comes back twice asks for an attempt that re-makes the subscription
    /// (<see cref="OnMessage"/>), one lost for an ordinary attempt — as does a copy still waiting for its re-make, or a
    /// channel an attempt left unsubscribed (a fault).
    /// </summary>
    private async Task LookAgainAsync()
    {
        if (!_subscribed || Volatile.Read(ref _heardTwice) == 1 || !await ProbeAsync())
        {
            Resubscribe();
        }
    }

    /// <summary>True once subscribed; false when the replica stops first.</summary>
    private async Task<bool> SubscribeUntilDoneAsync()
    {
        while (!shutdown.Token.IsCancellationRequested)
        {
            try
            {
                // Dropping this handler first keeps it registered once, whatever an earlier attempt left.
                var channel = Channel;
                await redis.CallAsync("subscribe", async () =>
                {
                    await redis.Subscriber.UnsubscribeAsync(channel, OnMessage);
                    await redis.Subscriber.SubscribeAsync(channel, OnMessage, ShardedChannels.SubscribeFlags(channel));
                    return true;
                });
                return true;
            }
            catch (Exception ex) when (ex is RoomException or RedisException)
            {
                RedisLog.RemovalChannelNotSubscribed(logger, ex.Message);
            }

            try
            {
                await Task.Delay(RetryDelay, shutdown.Token);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return false;
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (RoomChannelProtocol.IsProbe((byte[])message!))
        {
            // Ours completes its probe, and a second copy of it asks for the subscription to be made again; another
            // replica's is no removal and no news.
            if (_probes.Heard(message.ToString(), out _) && channel.IsSharded && Interlocked.Exchange(ref _heardTwice, 1) == 0)
            {
                Resubscribe();
            }

            return;
        }

        MemberRemovedNotice? removal;
        try
        {
            removal = JsonSerializer.Deserialize<MemberRemovedNotice>((byte[])message!, WebJson);
        }
        catch (JsonException)
        {
            removal = null;
        }

        if (removal is { RoomId: not null, MemberId: not null })
        {
            Heard?.Invoke(removal);
        }
        else
        {
            var text = message.ToString();
            RedisLog.RemovalUnreadable(logger, text.Length, text.Length > LoggedCharacters ? text[..LoggedCharacters] : text);
        }
    }
}
