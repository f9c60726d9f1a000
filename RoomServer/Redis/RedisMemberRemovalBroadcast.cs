using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's removal broadcast: one classic channel, <c>rs-removals</c>, that every replica
/// subscribes to once (a cluster broadcasts a classic PUBLISH to every node; removals are rare).
/// StackExchange.Redis restores the subscription with its connection; after the room backplane's own
/// re-subscription following a loss (<see cref="RedisBackplane.RestoredAfterLoss"/>: a restored connection,
/// a failover, a replica that was deaf) it is made again too, since a subscription can be lost on the server
/// without the connection noticing — but not after the backplane's retries of rooms still failing, which lost
/// nothing and come every second while a cluster shard is down. One attempt runs at a time (a request
/// meanwhile runs one more after it), so the handler is registered once however often the backplane restores.
/// Pub/sub is at most once: after each subscription <see cref="Resubscribed"/> lets the replica catch up with
/// the store on the removals published while it was not subscribed (Fanout/RemovalCatchUp, spaced out).
/// </summary>
public sealed class RedisMemberRemovalBroadcast(
    RedisConnection redis,
    RedisBackplane backplane,
    IHostApplicationLifetime lifetime,
    ILogger<RedisMemberRemovalBroadcast> logger) : IMemberRemovalBroadcast, IHostedService
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("rs-removals");

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    /// <summary>What of an unreadable message the log shows: anyone who can reach Redis can publish on the channel.</summary>
    private const int LoggedCharacters = 200;

    private int _running;
    private int _requested;

    public event Action<MemberRemovedNotice>? Heard;

    public event Action? Resubscribed;

    public Task PublishAsync(MemberRemovedNotice removal) =>
        redis.PublishAsync(Channel, JsonSerializer.SerializeToUtf8Bytes(removal, WebJson));

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

    private void Resubscribe()
    {
        Volatile.Write(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = Task.Run(RunRequestedAsync);
        }
    }

    private async Task RunRequestedAsync()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1)
            {
                if (await SubscribeUntilDoneAsync())
                {
                    // Subscribed first, then caught up: a removal published after this is heard, and one
                    // published before it is already in the store.
                    Resubscribed?.Invoke();
                }
            }

            Volatile.Write(ref _running, 0);

            // A request that came after the last check and saw the loop still running is taken here.
            if (Volatile.Read(ref _requested) == 0 || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>True once subscribed; false when the replica stops first.</summary>
    private async Task<bool> SubscribeUntilDoneAsync()
    {
        while (!lifetime.ApplicationStopping.IsCancellationRequested)
        {
            try
            {
                // Dropping this handler first keeps it registered once, whatever an earlier attempt left.
                await redis.CallAsync("subscribe", async () =>
                {
                    await redis.Subscriber.UnsubscribeAsync(Channel, OnMessage);
                    await redis.Subscriber.SubscribeAsync(Channel, OnMessage);
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
                await Task.Delay(RetryDelay, lifetime.ApplicationStopping);
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
