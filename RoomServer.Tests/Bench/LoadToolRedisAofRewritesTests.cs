extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest.Measure;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Bench;

/// <summary>
/// The load tool's <c>RedisAofRewrites</c> against real redis-servers: it sees a rewrite the primary does and not one a
/// replica does, and a Redis that is not there leaves the steps unmarked rather than failing the run.
/// </summary>
public sealed class LoadToolRedisAofRewritesTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARewriteOnThePrimaryIsCountedAndOneOnAReplicaIsNot()
    {
        await using var primary = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(primary);
        await using var rewrites = await RedisAofRewrites.ConnectAsync($"{primary.Endpoint},{replica.Endpoint}");
        rewrites.Should().NotBeNull();
        // A replica rewrites its AOF after its first sync: let that finish before counting.
        await Poll.UntilAsync(async () => await ReadAsync(replica) is { InProgress: 0 }, Bound, "the replica's start-up rewrite is over");
        var replicaBefore = await ReadAsync(replica);
        var before = await rewrites!.ReadAsync();
        before.Should().NotBeNull();

        await replica.ExecuteAsync("BGREWRITEAOF");
        await Poll.UntilAsync(async () => await ReadAsync(replica) is { InProgress: 0 } now && now.Completed > replicaBefore!.Value.Completed, Bound, "the replica's rewrite finished");
        AofRewriteReading.Overlapping(before, await rewrites.ReadAsync()).Should().Be(0, "the replica's rewrite stalls no write");

        await primary.ExecuteAsync("BGREWRITEAOF");
        await Poll.UntilAsync(async () => await rewrites.ReadAsync() is { InProgress: 0 } now && now.Completed > before!.Value.Completed, Bound, "the primary's rewrite finished");
        AofRewriteReading.Overlapping(before, await rewrites.ReadAsync()).Should().Be(1);
    }

    private static async Task<AofRewriteReading?> ReadAsync(RedisServerProcess redis) =>
        AofRewriteReading.Parse(await redis.ExecuteAsync("INFO", "persistence") ?? string.Empty);

    [Fact]
    public async Task NoRedisOrOneThatDoesNotAnswerLeavesStepsUnmarked()
    {
        (await RedisAofRewrites.ConnectAsync(null)).Should().BeNull("embedded mode and the floor have no Redis");
        (await RedisAofRewrites.ConnectAsync($"127.0.0.1:{FreePort.Next()}")).Should().BeNull("nothing listens there");
    }
}
