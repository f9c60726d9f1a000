using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// The scripts' twin of Embedded/InMemoryPresenceAfterOutageTests: after a time in which no sweep reached
/// Redis (an outage of every replica), the replica back first does not announce the others' members
/// offline at once — their grace starts when it notices, so their replica can renew them — while a member
/// whose replica never returns still goes offline one grace later. Real redis-server, real time (a 1 s
/// position interval: a 3 s lease; a 2 s grace).
/// </summary>
public sealed class PresenceAfterOutageTests
{
    private const string Room = "outagepresence1";
    private static readonly LocalConnection Ann = new(new ConnectionKey("a", "c1"), "ann", 0);
    private static readonly LocalConnection Bob = new(new ConnectionKey("b", "c2"), "bob", 0);

    [Fact]
    public async Task TheReplicaBackFirstLeavesTheOthersMembersAGraceToBeRenewedIn()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        var options = Options.Create(new RoomServerOptions { PositionIntervalSeconds = 1, PresenceGraceSeconds = 2, HeartbeatMilliseconds = 60_000 });
        await using var standalone = await StandaloneRedisConnection.StartAsync(redis.Endpoint, "a", options.Value);
        var store = standalone.RoomStore(options);
        await store.CreateAsync(new NewRoom(Room, "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None);
        await store.JoinAsync(new JoinRequest(Room, "ann", "Ann", Ann.Key, null, "t"), CancellationToken.None);
        await store.JoinAsync(new JoinRequest(Room, "bob", "Bob", Bob.Key, null, "t"), CancellationToken.None);

        // No sweep for longer than the lease (3 s) and the grace (2 s) together: Redis was away from both replicas.
        await Task.Delay(TimeSpan.FromSeconds(5.5));

        await store.SweepPresenceAsync(new PresenceSweep(Room, [Ann]), CancellationToken.None); // replica a is back first
        (await OnlineAsync(store, "bob")).Should().BeTrue("bob's replica may be about to renew: the grace starts now");

        await store.SweepPresenceAsync(new PresenceSweep(Room, [Bob]), CancellationToken.None); // replica b, within the grace
        await store.SweepPresenceAsync(new PresenceSweep(Room, [Ann]), CancellationToken.None);
        (await OnlineAsync(store, "bob")).Should().BeTrue("bob's lease was renewed in time");

        // Now bob's replica is gone for good: with replica a sweeping on (twice a position interval), bob goes
        // offline once his lease (3 s) and the grace (2 s) have run out; ann never does.
        var offline = await Poll.ForAsync(
            async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                await store.SweepPresenceAsync(new PresenceSweep(Room, [Ann]), CancellationToken.None);
                return !await OnlineAsync(store, "bob");
            },
            gone => gone,
            TimeSpan.FromSeconds(15),
            _ => "bob is announced offline");
        offline.Should().BeTrue("a member whose replica never returns goes offline");
        (await OnlineAsync(store, "ann")).Should().BeTrue();
    }

    private static async Task<bool> OnlineAsync(RedisRoomStore store, string member) =>
        (await store.GetSnapshotAsync(Room, CancellationToken.None)).Members.Single(m => m.MemberId == member).Online;
}
