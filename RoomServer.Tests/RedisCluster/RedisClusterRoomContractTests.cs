using System.Globalization;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// The whole room contract against a server on a Redis Cluster. Rooms get random ids, so the suite's
/// rooms spread over the three masters; <see cref="RoomsSpreadOverEveryMasterAndEachLivesOnTheMasterOfItsSlot"/>
/// checks that they do, asking the cluster where each room is.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class RedisClusterRoomContractTests(RedisClusterContractServer server)
    : RoomContractTests(server), IClassFixture<RedisClusterContractServer>
{
    [Fact]
    public async Task RoomsSpreadOverEveryMasterAndEachLivesOnTheMasterOfItsSlot()
    {
        // 30 random ids miss one of three masters with probability 3·(2/3)^30 ≈ 1.6e-5.
        const int RoomCount = 30;
        var cluster = server.Cluster;
        var perMaster = new Dictionary<int, List<string>>();
        for (var i = 0; i < RoomCount; i++)
        {
            var room = await server.CreateRoomAsync();
            var meta = $"rs:{{{room.Id}}}:meta";
            var master = await cluster.MasterOfAsync(meta);

            // Asked directly (no redirection): the master of the slot holds the room, and so does its
            // replica — the write was acknowledged only after WAIT confirmed it there.
            (await master.ExecuteAsync("EXISTS", meta)).Should().Be("1", $"room {room.Id} lives on {master}, the master of its slot");
            var replica = await cluster.ReplicaOfAsync(master.Port);
            (await replica.HoldsKeyAsync(meta)).Should().BeTrue($"the replica {replica} has room {room.Id} once its creation was acknowledged");
            perMaster.TryAdd(master.Port, []);
            perMaster[master.Port].Add(room.Id);
        }

        perMaster.Should().HaveCount(3, "the rooms land on all three masters: " +
            string.Join("; ", perMaster.Select(p => $"{p.Key.ToString(CultureInfo.InvariantCulture)}: {p.Value.Count}")));
    }
}
