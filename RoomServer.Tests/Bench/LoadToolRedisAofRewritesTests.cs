extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest.Measure;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Bench;

/// <summary>
/// The load tool's <c>RedisAofRewrites</c> against real redis-servers: a rewrite counts once whether a step saw it
/// start, end or both; a replica's counts too (on a Redis Cluster writes wait for a replica's acknowledgement); and a
/// Redis that is not there, or goes away, leaves the steps unmarked rather than failing the run.
/// </summary>
public sealed class LoadToolRedisAofRewritesTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ARewriteCountsOnceWhicheverOfItsEndsAStepSaw()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var rewrites = await RedisAofRewrites.ConnectAsync(redis.Endpoint);
        rewrites.Should().NotBeNull();
        // 20 000 keys at 100 µs each: a rewrite that runs about 2 s, long enough to read while it runs.
        await redis.ExecuteAsync("EVAL", "for i = 1, 20000 do redis.call('SET', 'k' .. i, i) end return 1", "0");
        await redis.ExecuteAsync("CONFIG", "SET", "rdb-key-save-delay", "100");
        var before = await rewrites!.ReadAsync();

        await redis.ExecuteAsync("BGREWRITEAOF");
        var during = await rewrites.ReadAsync();
        await Poll.UntilAsync(async () => await rewrites.ReadAsync() is { } now && now.Nodes.Values.All(n => n.InProgress == 0), Bound, "the rewrite finished");
        var after = await rewrites.ReadAsync();

        during!.Nodes.Values.Should().ContainSingle().Which.InProgress.Should().Be(1, "the rewrite was still running when read");
        AofRewriteSnapshot.Overlapping(before, during).Should().Be(1, "a step that saw it start");
        AofRewriteSnapshot.Overlapping(during, after).Should().Be(1, "a step that saw it end");
        AofRewriteSnapshot.Overlapping(before, after).Should().Be(1, "a step that saw all of it");
        AofRewriteSnapshot.Overlapping(after, await rewrites.ReadAsync()).Should().Be(0, "a step after it");
    }

    [Fact]
    public async Task AReplicasRewriteCountsToo()
    {
        await using var primary = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(primary);
        await using var rewrites = await RedisAofRewrites.ConnectAsync($"{primary.Endpoint},{replica.Endpoint}");
        // A replica rewrites its AOF after its first sync: let that finish before counting.
        await Poll.UntilAsync(async () => await rewrites!.ReadAsync() is { } now && now.Nodes.Count == 2 && now.Nodes.Values.All(n => n.InProgress == 0), Bound, "both nodes read, no rewrite running");
        var before = await rewrites!.ReadAsync();

        await replica.ExecuteAsync("BGREWRITEAOF");
        await Poll.UntilAsync(async () => AofRewriteSnapshot.Overlapping(before, await rewrites.ReadAsync()) == 1, Bound, "the replica's rewrite counted");
    }

    [Fact]
    public async Task NoRedisOrOneThatGoesAwayLeavesStepsUnmarked()
    {
        (await RedisAofRewrites.ConnectAsync(null)).Should().BeNull("embedded mode and the floor have no Redis");
        (await RedisAofRewrites.ConnectAsync($"127.0.0.1:{FreePort.Next()}")).Should().BeNull("nothing listens there");

        await using var redis = await RedisServerProcess.StartAsync();
        await using var rewrites = await RedisAofRewrites.ConnectAsync(redis.Endpoint);
        (await rewrites!.ReadAsync()).Should().NotBeNull();
        await redis.StopAsync();

        (await rewrites.ReadAsync()).Should().BeNull("the node is gone: the read fails quietly");
    }
}
