using System.Diagnostics;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Notices a second live process started with this replica's <c>RoomServer__ReplicaId</c>. The id is the
/// holder of the replica's claims on order records (DESIGN.md §8): two processes under one id would both pass
/// every holder check, deliver one room's records at once and renew each other's claims. So each process
/// keeps a key, <c>rs:replica:ID</c>, holding its own nonce with a short expiry, renewed every heartbeat
/// (replica_id.lua sets it only when it is free or already its own). The process that finds another's nonce
/// there still, a whole expiry after first seeing it, knows that process is alive and renewing: it logs an
/// error (1021) and reports not ready (<c>/readyz</c> 503, naming the id) until the other goes. A replica
/// restarted at once after a crash finds its old nonce, which nobody renews, and takes the key when it expires.
/// </summary>
public sealed class ReplicaIdGuard(
    RedisConnection redis,
    IOptions<RoomServerOptions> options,
    ILogger<ReplicaIdGuard> logger) : BackgroundService
{
    private static readonly RedisScript Hold = RedisScripts.Standalone("replica_id");

    /// <summary>The shortest lease: a renewal late by a GC pause or a slow box must not let the key lapse.</summary>
    private static readonly TimeSpan MinimumLease = TimeSpan.FromSeconds(3);

    private readonly string _replicaId = options.Value.ReplicaId;
    private readonly string _nonce = Guid.NewGuid().ToString("N");
    private readonly TimeSpan _interval = TimeSpan.FromMilliseconds(options.Value.HeartbeatMilliseconds);
    private readonly TimeSpan _lease = TimeSpan.FromMilliseconds(Math.Max(3.0 * options.Value.HeartbeatMilliseconds, MinimumLease.TotalMilliseconds));

    // The other process's nonce found in the key, and since when (Stopwatch ticks); null while this process holds it.
    private string? _otherHolder;
    private long _otherSince;
    private volatile bool _shared;

    /// <summary>Why this replica is not ready: another live process holds its ReplicaId; null when none does.</summary>
    public string? Clash => _shared
        ? $"another live process uses RoomServer__ReplicaId '{_replicaId}' (the holder of its claims on order records): give each replica its own"
        : null;

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
            // Shutting down: the key expires on its own, so a replacement under this id takes it within a lease.
        }
    }

    private async Task CheckAsync()
    {
        RedisResult reply;
        try
        {
            reply = await redis.EvaluateAsync(Hold, [RedisKeys.ReplicaHolder(_replicaId)], [_nonce, (long)_lease.TotalMilliseconds]);
        }
        catch (RoomException)
        {
            return; // Redis is away: /readyz says so already; what was known of the key stands until it answers.
        }

        var holder = reply.IsNull ? null : (string?)reply;
        if (string.IsNullOrEmpty(holder))
        {
            if (_shared)
            {
                RedisLog.ReplicaIdNoLongerShared(logger, _replicaId);
            }

            _otherHolder = null;
            _shared = false;
            return;
        }

        if (holder != _otherHolder)
        {
            _otherHolder = holder;
            _otherSince = Stopwatch.GetTimestamp();
            return;
        }

        // A dead process's nonce would have expired by now: the other process is alive and renewing it.
        if (!_shared && Stopwatch.GetElapsedTime(_otherSince) > _lease + _interval)
        {
            _shared = true;
            RedisLog.ReplicaIdShared(logger, _replicaId);
        }
    }
}
