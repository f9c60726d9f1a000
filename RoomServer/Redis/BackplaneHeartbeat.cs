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
/// Nothing heard for <see cref="DeafAfterBeats"/> beats → the replica is deaf: <c>/readyz</c> fails,
/// writes answer <c>unavailable</c> (<see cref="EnsureHearing"/>), and it re-subscribes its rooms and
/// its beat. When a beat comes back it raises the backplane's <c>Restored</c>, so members are sent
/// their position and catch up on whatever they missed.
/// </summary>
public sealed class BackplaneHeartbeat(
    RedisConnection redis,
    RedisBackplane backplane,
    IOptions<RoomServerOptions> options,
    ILogger<BackplaneHeartbeat> logger) : BackgroundService
{
    /// <summary>Beats that may go missing (a busy box, a slow Redis) before the replica calls itself deaf.</summary>
    public const int DeafAfterBeats = 3;

    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);

    // A nonce per process: two processes started with one ReplicaId must not hear each other's beats.
    private readonly RedisChannel _channel = RedisKeys.Heartbeat(options.Value.ReplicaId, Guid.NewGuid().ToString("N"));

    private readonly SemaphoreSlim _subscribeGate = new(1, 1);
    private ChannelMessageQueue? _queue;
    private long _lastHeard = Stopwatch.GetTimestamp();
    private int _deaf;
    private int _heardOnce;

    /// <summary>Whether the backplane has delivered a beat recently (true before the first deadline passes).</summary>
    public bool IsHearing => Volatile.Read(ref _deaf) == 0 && SinceLastHeard < DeafAfter;

    /// <summary>
    /// Ready means a beat has come back at all, and recently: until the first one does, the replica
    /// has not shown it can hear (writes are still taken during the first beats' grace).
    /// </summary>
    public bool IsVerified => Volatile.Read(ref _heardOnce) == 1 && IsHearing;

    /// <summary>How long ago the last beat came back.</summary>
    public TimeSpan SinceLastHeard => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastHeard));

    private TimeSpan DeafAfter => _interval * DeafAfterBeats;

    /// <summary>Refuses a write while deaf: its own members would not hear it, nor anyone else's.</summary>
    public void EnsureHearing()
    {
        if (!IsHearing)
        {
            throw RoomException.Unavailable("this replica cannot hear the room backplane right now; nothing was changed — retry (with the same opId)");
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
                await BeatAsync(++beat);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task BeatAsync(long beat)
    {
        var silentFor = SinceLastHeard;
        if (silentFor >= DeafAfter)
        {
            BecomeDeaf(silentFor);

            // Every further DeafAfterBeats beats of silence, start over: a fresh subscription for the
            // beat, and a re-subscription pass over every room (it verifies each with a probe).
            if (beat % DeafAfterBeats == 0)
            {
                await DropSubscriptionAsync();
                backplane.ResubscribeAll();
            }
        }

        try
        {
            await EnsureSubscribedAsync();
            await redis.PublishAsync(_channel, RoomChannelProtocol.ProbePrefix + beat.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (RoomException)
        {
            // Redis is away: /readyz already says so, and the next beat tries again.
        }
    }

    private void OnBeatHeard()
    {
        Interlocked.Exchange(ref _lastHeard, Stopwatch.GetTimestamp());
        Volatile.Write(ref _heardOnce, 1);
        if (Interlocked.Exchange(ref _deaf, 0) == 1)
        {
            RedisLog.BackplaneHearing(logger, redis.ReplicaId);
            backplane.RaiseRestored();
        }
    }

    private void BecomeDeaf(TimeSpan silentFor)
    {
        if (Interlocked.Exchange(ref _deaf, 1) == 0)
        {
            RedisLog.BackplaneDeaf(logger, redis.ReplicaId, silentFor.TotalMilliseconds);
            backplane.ResubscribeAll();
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        await _subscribeGate.WaitAsync();
        try
        {
            if (_queue is null)
            {
                var queue = await redis.CallAsync("subscribe", () => redis.Subscriber.SubscribeAsync(_channel));
                queue.OnMessage(_ => OnBeatHeard());
                _queue = queue;
            }
        }
        finally
        {
            _subscribeGate.Release();
        }
    }

    private async Task DropSubscriptionAsync()
    {
        await _subscribeGate.WaitAsync();
        try
        {
            _queue = null;

            // Every handler of the beat's channel goes, even when Redis cannot be told: the library
            // drops them locally first, and the server's side dies with its connection.
            await redis.Subscriber.UnsubscribeAsync(_channel).WaitAsync(_interval);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or RoomException)
        {
            // Gone locally already.
        }
        finally
        {
            _subscribeGate.Release();
        }
    }
}
