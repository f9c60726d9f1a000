using System.Collections.Concurrent;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's room fan-out: one Redis channel subscription per room with local members (the
/// caller, RoomMembership, reference-counts them). Each room's messages go through one
/// <see cref="ChannelMessageQueue"/>, whose handler runs for one message at a time in channel
/// order: StackExchange.Redis 2+ runs plain subscription handlers concurrently, which would reorder
/// a room's events. On every restore of the subscription connection this class re-creates each
/// room's subscription and verifies it — a probe published on the channel must come back through
/// its queue — then raises <see cref="Restored"/> so members are sent their position and catch up
/// on whatever pub/sub lost meanwhile. On a Redis Cluster with sharded pub/sub (RedisTopology) a
/// room's channel is SSUBSCRIBEd on its slot's master and probed with SPUBLISH; a failover (a failed
/// subscription connection, a moved slot: <see cref="RedisConnection.ShardsChanged"/>; on a single server
/// listed with its replica, a failed subscription connection) starts the same re-subscription, which keeps
/// retrying a room until the promoted replica serves it, then gives the room a new epoch
/// (Scripts/failover.lua: members resync from a snapshot). Every topology: a single server's master can be
/// replaced by its replica too.
/// </summary>
public sealed class RedisBackplane : IRoomBackplane
{
    private readonly RedisConnection _redis;
    private readonly FailoverEpochs _epochs;
    private readonly ILogger<RedisBackplane> _logger;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private const int ResubscribeAttempts = 3;
    private static readonly TimeSpan ResubscribeRetryDelay = TimeSpan.FromSeconds(1);
    private const int ParallelResubscribes = 16;

    private readonly ConcurrentDictionary<string, RoomChannel> _subscriptions = new(StringComparer.Ordinal);
    private readonly ProbeNonces<RoomChannel> _probes = new();
    private int _resubscribeRequested;
    private int _resubscribeRunning;

    /// <summary>After a pass that followed a loss on a cluster: an idle room's copy would not show otherwise.</summary>
    private readonly SecondLook _secondLook;

    public RedisBackplane(RedisConnection redis, FailoverEpochs epochs, ILogger<RedisBackplane> logger)
    {
        _redis = redis;
        _epochs = epochs;
        _logger = logger;
        _secondLook = new SecondLook(ex => RedisLog.SecondLookFailed(logger, ex), CancellationToken.None);
        _redis.Restored += OnConnectionRestored;
        _redis.ShardsChanged += RequestResubscribe;
    }

    public event Action<IReadOnlyCollection<string>?>? Restored;

    /// <summary>
    /// Raised as <see cref="Restored"/> is, but only when subscriptions may have missed messages since the last
    /// time: after a pass over every room (the subscription connection restored, shards changed, the replica
    /// deaf) and when the heartbeat hears again — not after the passes that retry the rooms still failing,
    /// a second apart for as long as one does, since no subscription was lost then. A cluster shard that stays
    /// down still raises it every few seconds: its heartbeat stays deaf, and every third beat starts a full pass
    /// (BackplaneHeartbeat). Listeners must cope: RedisMemberRemovalBroadcast probes rs-removals and keeps it when
    /// it still delivers, and RemovalCatchUp spaces its sweeps.
    /// </summary>
    public event Action? RestoredAfterLoss;

    public async Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken)
    {
        var room = new RoomChannel(this, roomId, handler);
        _subscriptions[roomId] = room;
        try
        {
            await room.SubscribeAsync();

            // A room no replica followed when its master was replaced (a cluster shard's or a single server's
            // failover) was in no re-check pass: its epoch is checked here, in every topology, before
            // the Join that subscribed reads it (failover.lua renews it only when the master's replication id
            // changed; otherwise it writes nothing), so a member resuming from an event the dead master never
            // replicated resyncs. The cost: one script per room subscription.
            await CheckEpochAsync(roomId);
        }
        catch (RoomException)
        {
            await room.DisposeAsync();
            throw;
        }

        return room;
    }

    private void Deliver(RoomChannel room, ChannelMessageQueue queue, RedisValue value)
    {
        // A queue left behind by an unsubscribe that could not reach Redis must stay silent, or a
        // later subscription of the room would deliver every message twice (the library may restore
        // the old queue's subscription itself, e.g. on a cluster's new master after a failover).
        if (!_subscriptions.TryGetValue(room.RoomId, out var current) || !ReferenceEquals(current, room) || !room.IsCurrent(queue))
        {
            return;
        }

        var bytes = (ReadOnlyMemory<byte>)value;
        if (RoomChannelProtocol.IsProbe(bytes.Span))
        {
            // Ours completes a verification (and a second copy of it is news); another replica's is simply not for us.
            if (_probes.Heard((string)value!, out var probed))
            {
                ReseatHeardTwice(probed);
            }

            return;
        }

        EncodedRoomMessage? message;
        try
        {
            message = RoomChannelProtocol.Read(room.RoomId, bytes);
        }
        catch (System.Text.Json.JsonException ex)
        {
            RedisLog.BadMessage(_logger, room.Channel.ToString(), ex);
            return;
        }

        if (message is null)
        {
            RedisLog.BadMessage(_logger, room.Channel.ToString(), null);
            return;
        }

        if (message.Kind == RoomMessageKind.Event && !room.Delivered.IsNew(message.Json.Span))
        {
            // Published once by its script, so heard again only over a second subscription of the room's channel.
            ReseatHeardTwice(room);
            return;
        }

        room.Handler(message);
    }

    private void OnConnectionRestored(ConnectionType type)
    {
        if (type == ConnectionType.Subscription)
        {
            RequestResubscribe();
        }
    }

    /// <summary>Re-subscribes and verifies every room (the heartbeat asks when the replica went deaf).</summary>
    public void ResubscribeAll() => RequestResubscribe();

    /// <summary>Tells the replica its members may have missed messages (the heartbeat, once it hears again).</summary>
    public void RaiseRestored()
    {
        Restored?.Invoke(null);
        RestoredAfterLoss?.Invoke();
    }

    /// <summary>
    /// Asks for a re-subscription pass. A request that arrives while a pass runs is not lost: the
    /// running loop sees it and starts over with every room.
    /// </summary>
    private void RequestResubscribe()
    {
        Volatile.Write(ref _resubscribeRequested, 1);
        if (Interlocked.CompareExchange(ref _resubscribeRunning, 1, 0) == 0)
        {
            _ = Task.Run(ResubscribeLoopAsync);
        }
    }

    /// <summary>
    /// Re-subscribes and verifies every room, then keeps retrying the ones that failed (a second
    /// apart) while the connection is up and they still have members — no round limit: a room left
    /// unverified would stay silently stale. After the pass every room's members are sent their position,
    /// and after a retry those of the rooms it restored, so they catch up whatever happened to their
    /// room's subscription.
    /// </summary>
    private async Task ResubscribeLoopAsync()
    {
        // A pass after a loss on a cluster owes a second look, asked for once the loop is over: the look yields to a pass
        // under way, and the retries of a failed shard's rooms are part of this one.
        var lookOwed = false;
        try
        {
            var pending = new List<RoomChannel>();
            while (true)
            {
                var afterLoss = Interlocked.Exchange(ref _resubscribeRequested, 0) == 1;
                if (afterLoss)
                {
                    pending = [.. _subscriptions.Values];
                }
                else if (pending.Count == 0 || !_redis.IsConnected)
                {
                    return;
                }
                else
                {
                    await Task.Delay(ResubscribeRetryDelay);
                }

                // Rooms in parallel (bounded): a failed shard's rooms each wait out a probe timeout.
                var failed = new ConcurrentBag<RoomChannel>();
                await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = ParallelResubscribes }, async (room, _) =>
                {
                    if (IsCurrent(room) && !await ResubscribeAsync(room))
                    {
                        failed.Add(room);
                    }
                });

                RedisLog.Resubscribed(_logger, _redis.ReplicaId, pending.Count - failed.Count, pending.Count);
                if (afterLoss)
                {
                    Restored?.Invoke(null);
                    RestoredAfterLoss?.Invoke();
                    lookOwed |= _redis.Topology.ShardedPubSub;
                }
                else if (pending.Except(failed).Select(room => room.RoomId).ToList() is { Count: > 0 } restored)
                {
                    // A retry names only the rooms it restored: a room whose check keeps failing (a shard whose
                    // confirmed writes queue behind WAITs) must not have every room re-ticked each second.
                    Restored?.Invoke(restored);
                }

                pending = [.. failed];
            }
        }
        finally
        {
            // A full fence between the store and the load (a volatile write may pass a later read): else this loop
            // and a request's compare-exchange could each read the other's old value, and the request be lost.
            Interlocked.Exchange(ref _resubscribeRunning, 0);
            if (lookOwed)
            {
                _secondLook.Request(LookAgainAsync);
            }

            if (Volatile.Read(ref _resubscribeRequested) == 1)
            {
                RequestResubscribe();
            }
        }
    }

    private bool IsCurrent(RoomChannel room) =>
        _subscriptions.TryGetValue(room.RoomId, out var current) && ReferenceEquals(current, room);

    /// <summary>
    /// Re-creates one room's subscription until a probe proves it delivers (bounded attempts), then checks
    /// its epoch (failover.lua: renewed only after a replica was promoted in its master's place), in every
    /// topology. On a cluster the pass runs for every room when one shard fails over, so a room whose
    /// subscription still delivers (a probe comes back) is not re-made, which would open a gap in a shard that
    /// never failed; its epoch is checked all the same.
    /// </summary>
    private async Task<bool> ResubscribeAsync(RoomChannel room)
    {
        for (var attempt = 1; attempt <= ResubscribeAttempts; attempt++)
        {
            try
            {
                // Probed first only on a cluster, where one shard's failover re-checks every room: a single
                // server's pass (deaf, restored, a listed node's failure) re-makes its rooms at once, rather than
                // wait out a probe per room (2 s, 16 at a time) before a dead subscription is made again.
                if (attempt == 1 && room.IsSubscribed && _redis.Topology.IsCluster && await ProbeAsync(room))
                {
                    // It delivers — perhaps only because StackExchange.Redis re-made it on a promoted
                    // replica before this pass came (a failover faster than deafness). failover.lua
                    // renews the epoch only if the room's master changed since the epoch began.
                    return await TryRenewEpochAsync(room.RoomId);
                }

                await room.UnsubscribeAsync();
                await room.SubscribeAsync();
                var heard = await ProbeAsync(room);

                // The room's last local member may have left while this ran: this subscription must
                // not outlive it, whether or not the probe came back.
                if (!IsCurrent(room))
                {
                    await room.UnsubscribeAsync();
                    return true;
                }

                if (heard)
                {
                    // A subscription that stopped delivering means the room's master may have been replaced
                    // (a cluster shard's or a single server's failover): its members may hold events the dead
                    // master never replicated. failover.lua renews the epoch only if a replica was promoted.
                    await RenewEpochAsync(room.RoomId);
                    return true;
                }
            }
            catch (RoomException ex)
            {
                RedisLog.ResubscribeFailed(_logger, room.RoomId, ex);
            }
        }

        return false;
    }

    /// <summary><see cref="RenewEpochAsync"/>; false (the room stays for the next pass) when Redis did not answer.</summary>
    private async Task<bool> TryRenewEpochAsync(string roomId)
    {
        try
        {
            await RenewEpochAsync(roomId);
            return true;
        }
        catch (RoomException ex)
        {
            RedisLog.ResubscribeFailed(_logger, roomId, ex);
            return false;
        }
    }

    private async Task RenewEpochAsync(string roomId)
    {
        try
        {
            var position = await _epochs.RenewAsync(roomId);
            RedisLog.EpochAfterFailover(_logger, roomId, position.Epoch, position.Version);
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.RoomNotFound)
        {
            // Deleted or expired meanwhile: nothing to resync.
        }
    }

    /// <summary>As <see cref="RenewEpochAsync"/>, for a room just subscribed: almost always nothing changes, so nothing is logged.</summary>
    private async Task CheckEpochAsync(string roomId)
    {
        try
        {
            await _epochs.RenewAsync(roomId);
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.RoomNotFound)
        {
            // The Join that subscribed answers room_not_found itself.
        }
    }

    /// <summary>Publishes a nonce on the room's channel and waits for it to come back through our queue.</summary>
    private async Task<bool> ProbeAsync(RoomChannel room)
    {
        var nonce = _probes.Open(room, out var arrived);
        try
        {
            await _redis.PublishAsync(room.Channel, nonce);
            await arrived.WaitAsync(ProbeTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            _probes.Close(nonce);
        }
    }

    /// <summary>
    /// The second look after a pass that followed a loss on a cluster: every subscribed room is probed once more, and a
    /// probe that comes back twice re-makes its room (<see cref="Deliver"/>). Only copies are looked for: a probe lost here
    /// (a busy box) starts nothing; the pass verified every room a moment ago, and a shard that stops delivering since is
    /// the heartbeat's to find.
    /// </summary>
    private async Task LookAgainAsync()
    {
        // A pass under way probes every room itself, and asks for a second look of its own once it is over.
        if (Volatile.Read(ref _resubscribeRunning) == 1)
        {
            return;
        }

        await Parallel.ForEachAsync(_subscriptions.Values.Where(room => room.IsSubscribed), new ParallelOptions { MaxDegreeOfParallelism = ParallelResubscribes }, async (room, _) =>
        {
            try
            {
                await ProbeAsync(room);
            }
            catch (RoomException)
            {
                // Redis away: nothing to learn about copies now.
            }
        });
    }

    /// <summary>
    /// A room's message heard twice: its channel is subscribed on two nodes of its shard (the library's race after a
    /// failover, RedisConnection.UnsubscribeEverywhereAsync). Sharded channels only (a single server has one node), once at
    /// a time per room and spaced out (<see cref="ReseatGate"/>): its subscription is made again with the copy on a
    /// replica unsubscribed, verified, and its members are sent their position for what the gap cost them.
    /// </summary>
    private void ReseatHeardTwice(RoomChannel room)
    {
        if (_redis.Topology.ShardedPubSub && IsCurrent(room) && room.Reseats.TryBegin())
        {
            _ = Task.Run(() => ReseatAsync(room));
        }
    }

    private async Task ReseatAsync(RoomChannel room)
    {
        RedisLog.ChannelHeardTwice(_logger, _redis.ReplicaId, room.Channel.ToString());
        var settled = false;
        try
        {
            // Not re-made: disposed, or unsubscribed by a pass under way, which makes it again.
            var remade = await room.ReseatAsync();
            settled = !remade || await ProbeAsync(room);
            if (remade && settled && IsCurrent(room))
            {
                Restored?.Invoke([room.RoomId]);
            }
        }
        catch (RoomException ex)
        {
            RedisLog.ResubscribeFailed(_logger, room.RoomId, ex);
        }
        finally
        {
            room.Reseats.End();

            // Left unverified (whatever stopped it): a full pass makes it again, and keeps trying.
            if (!settled && IsCurrent(room))
            {
                RequestResubscribe();
            }
        }
    }

    /// <summary>
    /// One room's subscription: its channel, its <see cref="ChannelMessageQueue"/> (the library fills
    /// it in the order its reader sees the channel, and <c>OnMessage</c> hands messages over one at a
    /// time — plain handlers run concurrently and reorder a room: RedisBackplaneOrderTests catches
    /// that), and the fan-out handler. Its own subscribe and unsubscribe never overlap (its gate), so it
    /// has at most one queue; once disposed it never subscribes again (a resubscribe pass may still hold
    /// it). A room's next RoomChannel subscribes only after this one's dispose is over (RoomMembership holds
    /// the room until then). A subscribe that fails or times out has already registered its queue with the
    /// library, which would restore it on reconnect with nobody reading: so on failure every handler of the
    /// room's channel is removed (at that moment the room has no other).
    /// </summary>
    internal sealed class RoomChannel(RedisBackplane owner, string roomId, Action<BackplaneMessage> handler) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private ChannelMessageQueue? _queue;
        private bool _disposed;

        public string RoomId { get; } = roomId;

        /// <summary>Classic or sharded, as the topology says when the room subscribes.</summary>
        public RedisChannel Channel { get; private set; } = RedisKeys.Events(roomId);

        public Action<BackplaneMessage> Handler { get; } = handler;

        public bool IsSubscribed => Volatile.Read(ref _queue) is not null;

        /// <summary>The last event delivered, so a message that arrives twice is delivered once.</summary>
        public EventPositionFilter Delivered { get; } = new();

        public bool IsCurrent(ChannelMessageQueue queue) => ReferenceEquals(Volatile.Read(ref _queue), queue);

        public async Task SubscribeAsync()
        {
            await _gate.WaitAsync();
            try
            {
                await SubscribeHeldAsync();
            }
            finally
            {
                _gate.Release();
            }
        }

        public async Task UnsubscribeAsync()
        {
            await _gate.WaitAsync();
            try
            {
                await UnsubscribeHeldAsync();
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>
        /// Unsubscribes, clears a copy of the channel left on a replica of its shard, and subscribes again, all under the
        /// gate (a pass's subscribe must not land in the middle). False when there was nothing to re-make: disposed, or
        /// not subscribed now (a pass is re-making it).
        /// </summary>
        public async Task<bool> ReseatAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_disposed || _queue is null)
                {
                    return false;
                }

                await UnsubscribeHeldAsync();
                await owner._redis.UnsubscribeEverywhereAsync(Channel, owner._redis.StoreDeadline);
                await SubscribeHeldAsync();
                return true;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Its re-makes after a message heard twice: one at a time, spaced out.</summary>
        public ReseatGate Reseats { get; } = new();

        private async Task SubscribeHeldAsync()
        {
            // Disposed: the room's next subscription may be live already, and this one's failure path
            // would drop its handler too.
            if (_queue is not null || _disposed)
            {
                return;
            }

            Channel = owner._redis.Topology.Channel(RoomId);
            var queue = await owner._redis.SubscribeQueueAsync(Channel);
            queue.OnMessage(message => owner.Deliver(this, queue, message.Message));
            _queue = queue;
        }

        private async Task UnsubscribeHeldAsync()
        {
            if (Interlocked.Exchange(ref _queue, null) is { } queue)
            {
                try
                {
                    await owner._redis.CallAsync("unsubscribe", async () =>
                    {
                        await queue.UnsubscribeAsync();
                        return true;
                    });
                }
                catch (RoomException ex)
                {
                    // The library may keep (and later restore) a queue whose unsubscribe did not reach Redis: drop it
                    // locally, it is this room's only one. Where the library refused to send it (the node it knew for
                    // the channel is a replica now, after a failover), the subscription stays there: it is unsubscribed
                    // on the shard's replicas as well.
                    if (ex.InnerException is { } inner && RedisConnection.IsReplicaRefusal(inner))
                    {
                        await owner._redis.UnsubscribeEverywhereAsync(Channel, TimeSpan.FromSeconds(1));
                    }
                    else
                    {
                        await owner._redis.RemoveEveryHandlerAsync(Channel, TimeSpan.FromSeconds(1));
                    }

                    throw;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            owner._subscriptions.TryRemove(new KeyValuePair<string, RoomChannel>(RoomId, this));
            await _gate.WaitAsync();
            _disposed = true;
            _gate.Release();
            try
            {
                await UnsubscribeAsync();
            }
            catch (RoomException)
            {
                // Redis is unreachable: the library drops the queue locally before it asks Redis, and
                // the server side of the subscription dies with the connection.
            }
        }
    }
}
