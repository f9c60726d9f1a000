using System.Collections.Concurrent;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's fan-out: one Redis channel subscription per room with local members (the caller,
/// RoomSubscriptions, reference-counts them). StackExchange.Redis 1.2 re-subscribes by itself after a
/// reconnect, but racily; so on every restore of the subscription connection this class drops and
/// re-creates each room's subscription explicitly and verifies it — a probe published on the channel
/// must come back through the handler — then raises <see cref="Restored"/> so members are sent their
/// position and catch up on whatever pub/sub lost meanwhile.
/// </summary>
public sealed class RedisBackplane : IRoomBackplane
{
    private readonly RedisConnection _redis;
    private readonly ILogger<RedisBackplane> _logger;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private const int ResubscribeAttempts = 3;
    private const int MaxResubscribeRounds = 60;
    private static readonly TimeSpan ResubscribeRetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Action<RedisChannel, RedisValue>> _subscriptions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _probes = new(StringComparer.Ordinal);
    private int _resubscribeRequested;
    private int _resubscribeRunning;

    public RedisBackplane(RedisConnection redis, ILogger<RedisBackplane> logger)
    {
        _redis = redis;
        _logger = logger;
        _redis.Restored += OnConnectionRestored;
    }

    public event Action? Restored;

    public async Task<IAsyncDisposable> SubscribeAsync(string roomId, Action<BackplaneMessage> handler, CancellationToken cancellationToken)
    {
        var channel = RedisKeys.Events(roomId);
        Action<RedisChannel, RedisValue>? onMessage = null;
        onMessage = (_, value) =>
        {
            // A handler left behind by an unsubscribe that could not reach Redis must stay silent,
            // or a later re-subscription of the room would deliver every message twice.
            if (_subscriptions.TryGetValue(roomId, out var current) && ReferenceEquals(current, onMessage))
            {
                Deliver(channel, value, handler);
            }
        };
        _subscriptions[roomId] = onMessage;
        try
        {
            await _redis.CallAsync("subscribe", async () =>
            {
                await _redis.Subscriber.SubscribeAsync(channel, onMessage);
                return true;
            });
        }
        catch (RoomException)
        {
            _subscriptions.TryRemove(new KeyValuePair<string, Action<RedisChannel, RedisValue>>(roomId, onMessage));
            throw;
        }

        return new Subscription(this, roomId, channel, onMessage);
    }

    private void Deliver(RedisChannel channel, RedisValue value, Action<BackplaneMessage> handler)
    {
        var text = (string)value!;
        if (RedisProtocol.IsProbe(text))
        {
            // Ours completes a verification; another replica's is simply not for us.
            if (_probes.TryRemove(text, out var probe))
            {
                probe.TrySetResult();
            }

            return;
        }

        BackplaneMessage? message;
        try
        {
            message = RedisProtocol.Parse(text);
        }
        catch (System.Text.Json.JsonException ex)
        {
            RedisLog.BadMessage(_logger, channel.ToString(), ex);
            return;
        }

        if (message is null)
        {
            RedisLog.BadMessage(_logger, channel.ToString(), null);
            return;
        }

        handler(message);
    }

    private void OnConnectionRestored(ConnectionType type)
    {
        if (type == ConnectionType.Subscription)
        {
            RequestResubscribe();
        }
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
    /// Re-subscribes and verifies every room, then keeps retrying the ones that failed (bounded
    /// rounds, a second apart) while the connection is up. Members are sent their position after
    /// each pass, so they catch up whatever happened to their room's subscription.
    /// </summary>
    private async Task ResubscribeLoopAsync()
    {
        try
        {
            var pending = new List<string>();
            for (var round = 0; round < MaxResubscribeRounds; round++)
            {
                if (Interlocked.Exchange(ref _resubscribeRequested, 0) == 1)
                {
                    pending = [.. _subscriptions.Keys];
                }
                else if (pending.Count == 0 || !_redis.IsConnected)
                {
                    return;
                }
                else
                {
                    await Task.Delay(ResubscribeRetryDelay);
                }

                var failed = new List<string>();
                foreach (var roomId in pending)
                {
                    if (_subscriptions.TryGetValue(roomId, out var onMessage) && !await ResubscribeAsync(roomId, onMessage))
                    {
                        failed.Add(roomId);
                    }
                }

                RedisLog.Resubscribed(_logger, _redis.ReplicaId, pending.Count - failed.Count, pending.Count);
                Restored?.Invoke();
                pending = failed;
            }
        }
        finally
        {
            Volatile.Write(ref _resubscribeRunning, 0);
            if (Volatile.Read(ref _resubscribeRequested) == 1)
            {
                RequestResubscribe();
            }
        }
    }

    /// <summary>Re-creates one room's subscription until a probe proves it delivers (bounded attempts).</summary>
    private async Task<bool> ResubscribeAsync(string roomId, Action<RedisChannel, RedisValue> onMessage)
    {
        var channel = RedisKeys.Events(roomId);
        for (var attempt = 1; attempt <= ResubscribeAttempts; attempt++)
        {
            try
            {
                await _redis.CallAsync("resubscribe", async () =>
                {
                    await _redis.Subscriber.UnsubscribeAsync(channel, onMessage);
                    await _redis.Subscriber.SubscribeAsync(channel, onMessage);
                    return true;
                });
                if (await ProbeAsync(channel))
                {
                    // The room's last local member may have left while this ran: then its unsubscribe
                    // found no handler to remove, and this subscription must not outlive it.
                    if (!_subscriptions.TryGetValue(roomId, out var current) || !ReferenceEquals(current, onMessage))
                    {
                        await _redis.CallAsync("unsubscribe", async () =>
                        {
                            await _redis.Subscriber.UnsubscribeAsync(channel, onMessage);
                            return true;
                        });
                    }

                    return true;
                }
            }
            catch (RoomException ex)
            {
                RedisLog.ResubscribeFailed(_logger, roomId, ex);
            }
        }

        return false;
    }

    /// <summary>Publishes a nonce on the channel and waits for it to come back through our handler.</summary>
    private async Task<bool> ProbeAsync(RedisChannel channel)
    {
        var nonce = RedisProtocol.ProbePrefix + Guid.NewGuid().ToString("N");
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probes[nonce] = arrived;
        try
        {
            await _redis.PublishAsync(channel, nonce);
            await arrived.Task.WaitAsync(ProbeTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            _probes.TryRemove(nonce, out _);
        }
    }

    private async Task UnsubscribeAsync(string roomId, RedisChannel channel, Action<RedisChannel, RedisValue> onMessage)
    {
        _subscriptions.TryRemove(new KeyValuePair<string, Action<RedisChannel, RedisValue>>(roomId, onMessage));
        try
        {
            await _redis.CallAsync("unsubscribe", async () =>
            {
                await _redis.Subscriber.UnsubscribeAsync(channel, onMessage);
                return true;
            });
        }
        catch (RoomException)
        {
            // Redis is unreachable: the server side of the subscription dies with the connection, and
            // the handler is already gone from the map, so a restore will not bring it back.
        }
    }

    private sealed class Subscription(RedisBackplane owner, string roomId, RedisChannel channel, Action<RedisChannel, RedisValue> onMessage) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await owner.UnsubscribeAsync(roomId, channel, onMessage);
    }
}
