using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// On a Redis Cluster every write is confirmed by a replica by default (DESIGN.md §2), which needs a
/// store deadline of at least 500 ms: a replica configured shorter refuses to start and says which
/// settings to change, where before it started and answered most writes <c>unavailable</c>. A single
/// server (no confirmation by default) takes the same short deadline.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class ConfirmedWriteDeadlineTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task ADeadlineTooShortForConfirmedWritesRefusesToStartOnAClusterWithAClearMessage()
    {
        var settings = cluster.Settings("r-short-deadline");
        settings["RoomServer__StoreTimeoutMilliseconds"] = "300";

        var start = () => RoomServerProcess.StartAsync(settings);

        var refused = await start.Should().ThrowAsync<InvalidOperationException>();
        refused.Which.Message.Should().Contain("exited during start-up")
            .And.Contain("RoomServer:StoreTimeoutMilliseconds is 300")
            .And.Contain("confirmed by 1 Redis replica(s)")
            .And.Contain("RoomServer__StoreTimeoutMilliseconds to 500 or more");
    }

    [Fact]
    public async Task ASettingFoundWrongOnlyAfterStartUpStopsTheReplicaOnceWithAFailingExitCode()
    {
        // Redis is down when the replica starts, so the topology (and what it refuses) is learnt later.
        await using var redis = await RedisServerProcess.StartAsync();
        await redis.StopAsync();
        var settings = cluster.Settings("r-late-refusal");
        settings["ConnectionStrings__Redis"] = redis.Endpoint;
        settings["RoomServer__Redis__ShardedPubSub"] = "on";
        await using var replica = await RoomServerProcess.StartAsync(settings);

        await redis.StartAgainAsync();

        (await replica.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue("it stops once a call learns that the server is no cluster");
        replica.ExitCode.Should().Be(1, "a refusal is not a clean stop");
        replica.Output.Split("Stopping: RoomServer:Redis:ShardedPubSub is 'on'").Should().HaveCount(2, "the refusal is logged once, not by every call after it");
    }

    [Fact]
    public async Task TheSameDeadlineOnASingleServerStartsAndServes()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var settings = cluster.Settings("r-short-single");
        settings["ConnectionStrings__Redis"] = redis.Endpoint;
        settings["RoomServer__StoreTimeoutMilliseconds"] = "300";

        await using var replica = await RoomServerProcess.StartAsync(settings);

        (await cluster.ReadyAsync(replica)).Status.Should().Be(200);
    }
}
