using System.Globalization;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// failover.lua renews a room's epoch once per promotion of its master, and never for a room whose
/// master is the one its epoch began under (create.lua records it) — so the backplane may ask for every
/// room it re-checks after a failover, including rooms of shards that never failed, or whose subscription
/// StackExchange.Redis had already moved to the promoted replica. A restart (a new replication id, but no
/// promotion: nothing it published was lost) keeps the epoch.
/// </summary>
public sealed class FailoverEpochTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task ARoomKeepsItsEpochThroughARestartAndGetsANewOneOnceWhenAReplicaIsPromotedInItsMastersPlace()
    {
        var room = await server.CreateRoomAsync();
        var meta = $"rs:{{{room.Id}}}:meta";
        await using var redis = await StandaloneRedisConnection.StartAsync(server.Redis.Endpoint, "failover-epoch-test");
        var epochs = new FailoverEpochs(redis.Connection, Options.Create(new RoomServerOptions()));

        (await epochs.RenewAsync(room.Id)).Epoch.Should().Be(room.Epoch, "the room's master is the one it was created under");

        // As if the master had restarted since the epoch began: another replication id, and no old master's
        // id beside it (master_replid2 all zeros), as on every master that started as one.
        await server.Redis.ExecuteAsync("HSET", meta, "failoverMaster", "0123456789abcdef0123456789abcdef01234567");
        (await epochs.RenewAsync(room.Id)).Epoch.Should().Be(room.Epoch, "a restart is not a promotion: it lost nothing it published");
        var current = ReplicationField(await server.Redis.ExecuteAsync("INFO", "replication"), "master_replid");
        (await server.Redis.ExecuteAsync("HGET", meta, "failoverMaster")).Should().Be(current, "the check records the new id");

        // A promotion in place: a replica of a master that never answers (so it keeps its data), then made a
        // master again — Redis then keeps the old id as master_replid2, as a replica promoted after a failover does.
        await server.Redis.ExecuteAsync("REPLICAOF", "127.0.0.1", FreePort.Next().ToString(CultureInfo.InvariantCulture));
        await server.Redis.ExecuteAsync("REPLICAOF", "NO", "ONE");
        ReplicationField(await server.Redis.ExecuteAsync("INFO", "replication"), "master_replid2").Should().Be(current);

        var renewed = (await epochs.RenewAsync(room.Id)).Epoch;
        renewed.Should().NotBe(room.Epoch, "a promotion since the epoch began gets the room a new one");
        (await server.Redis.ExecuteAsync("HGET", meta, "epoch")).Should().Be(renewed);

        (await epochs.RenewAsync(room.Id)).Epoch.Should().Be(renewed, "once per promotion: the next replica to notice changes nothing");
    }

    private static string ReplicationField(string? info, string field) =>
        (info ?? "").Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];
}
