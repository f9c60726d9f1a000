using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Keeps two live processes from working under one <c>RoomServer__ReplicaId</c>. The id holds the replica's claims
/// on order records (DESIGN.md §8): two processes under it would both pass every holder check and deliver one room's
/// records at once. So each process keeps a key, <c>rs:replica:ID</c>, holding its nonce and a renewal number with a
/// lease, renewed every heartbeat; replica_id.lua sets it only when it is free or already this process's. Only while
/// it holds the key does the process claim order records (<see cref="IOrderClaimPermit"/>). A process that finds
/// another's number changing from one read to the next — a live process renewing, not a crashed one's leftover, which
/// expires — logs error 1021 and is not ready (<c>/readyz</c> 503 naming the id) until it holds the key again (1022).
/// A replica restarted after a crash finds its old key, which nobody renews, and takes it once the lease runs out.
/// </summary>
public sealed class ReplicaIdGuard(
    RedisConnection redis,
    IOptions<RoomServerOptions> options,
    ILogger<ReplicaIdGuard> logger) : BackgroundService, IOrderClaimPermit
{
    private static readonly RedisScript Hold = RedisScripts.Standalone("replica_id");

    private readonly string _replicaId = options.Value.ReplicaId;
    private readonly string _nonce = Guid.NewGuid().ToString("N");
    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);
    private readonly TimeSpan _lease = Lease(options.Value);

    private long _renewal;

    // The other holder's value (NONCE:NUMBER) as last read; null while this process holds the key.
    private string? _otherHolder;
    private volatile bool _holds;
    private volatile bool _shared;

    /// <summary>Whether this process held its id at its last answered check: only then does it claim order records.</summary>
    public bool MayClaim => _holds;

    /// <summary>Why this replica is not ready: another live process holds its ReplicaId; null when none does.</summary>
    public string? Clash => _shared
        ? $"another live process uses RoomServer__ReplicaId '{_replicaId}' (the holder of its claims on order records): give each replica its own"
        : null;

    /// <summary>
    /// Three heartbeats, and at least two store deadlines and a heartbeat (two renewals may each take a whole deadline
    /// before one lands), and at least 3 s: a holder slowed by a GC pause or a slow Redis must not lose the key.
    /// </summary>
    private static TimeSpan Lease(RoomServerOptions options) => TimeSpan.FromMilliseconds(Math.Max(
        Math.Max(3.0 * options.HeartbeatMilliseconds, (2.0 * options.StoreTimeoutMilliseconds) + options.HeartbeatMilliseconds),
        3_000));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            do
            {
                await CheckAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down (after the drain and the order worker): give the id back, so a replacement need not wait out the lease.
            await ReleaseAsync();
        }
    }

    private async Task CheckAsync()
    {
        RedisResult reply;
        try
        {
            reply = await redis.EvaluateAsync(Hold, [RedisKeys.ReplicaHolder(_replicaId)], [_nonce, (long)_lease.TotalMilliseconds, ++_renewal, "hold"]);
        }
        catch (RoomException)
        {
            return; // Redis is away: /readyz says so already; what was known of the key stands until it answers.
        }

        var holder = reply.IsNull ? null : (string?)reply;
        if (string.IsNullOrEmpty(holder))
        {
            _holds = true;
            _otherHolder = null;
            if (_shared)
            {
                _shared = false;
                RedisLog.ReplicaIdHeldAgain(logger, _replicaId);
            }

            return;
        }

        _holds = false;
        var renewedSinceLastRead = _otherHolder is { } last && last != holder && SameProcess(last, holder);
        _otherHolder = holder;
        if (renewedSinceLastRead && !_shared)
        {
            RedisLog.ReplicaIdShared(logger, _replicaId);
            _shared = true;
        }
    }

    private async Task ReleaseAsync()
    {
        if (!_holds)
        {
            return;
        }

        try
        {
            await redis.EvaluateAsync(Hold, [RedisKeys.ReplicaHolder(_replicaId)], [_nonce, 0, 0, "release"]);
        }
        catch (RoomException)
        {
            // Redis is away: the key expires within a lease all the same.
        }
    }

    /// <summary>Two values written by one process: the same nonce, before the renewal number.</summary>
    private static bool SameProcess(string a, string b) =>
        a.AsSpan(0, Math.Max(0, a.LastIndexOf(':'))).SequenceEqual(b.AsSpan(0, Math.Max(0, b.LastIndexOf(':'))));
}
