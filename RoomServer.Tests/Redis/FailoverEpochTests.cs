using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// failover.lua renews a room's epoch once per promotion of its shard's master, and never for a room whose
/// master is the one its epoch began under (create.lua records it) — so the backplane may ask for every
/// room it re-checks after a failover, including rooms of shards that never failed, or whose subscription
/// StackExchange.Redis had already moved to the promoted replica.
/// </summary>
public sealed class FailoverEpochTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task ARoomKeepsItsEpochUntilItsMasterChangesThenGetsANewOneOnce()
    {
        var room = await server.CreateRoomAsync();
        var meta = $"rs:{{{room.Id}}}:meta";
        await using var redis = await StandaloneRedisConnection.StartAsync(server.Redis.Endpoint, "failover-epoch-test");
        var epochs = new FailoverEpochs(redis.Connection, Options.Create(new RoomServerOptions()));

        (await epochs.RenewAsync(room.Id)).Epoch.Should().Be(room.Epoch, "the room's master is the one it was created under");
        (await server.Redis.ExecuteAsync("HGET", meta, "epoch")).Should().Be(room.Epoch);

        // As if the room's epoch had begun under a master since replaced by a promoted replica.
        await server.Redis.ExecuteAsync("HSET", meta, "failoverMaster", "0123456789abcdef0123456789abcdef01234567");
        var renewed = (await epochs.RenewAsync(room.Id)).Epoch;
        renewed.Should().NotBe(room.Epoch, "a promotion since the epoch began gets the room a new one");
        (await server.Redis.ExecuteAsync("HGET", meta, "epoch")).Should().Be(renewed);

        (await epochs.RenewAsync(room.Id)).Epoch.Should().Be(renewed, "once per promotion: the next replica to notice changes nothing");
    }
}
