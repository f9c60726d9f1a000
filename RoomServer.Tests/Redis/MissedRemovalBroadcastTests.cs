using System.Net;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A removal is broadcast on <c>rs-removals</c> so a replica where nobody is in the room closes the removed
/// member's device that never joined (DESIGN.md §3 <c>Removed</c>). Pub/sub is at most once: replica A, cut
/// from Redis (a <see cref="TcpFaultProxy"/> drops its links), is not subscribed when the removal is made
/// through replica B (the fixture's server) — Redis counts one subscriber then, B. Once A's link is back and it
/// has subscribed again, it asks the store about the members it holds and closes the device, telling it
/// <c>Removed</c> first; a device of the member admitted again since (a token issued after the removal) stays open.
/// </summary>
public sealed class MissedRemovalBroadcastTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ARemovalPublishedWhileAReplicaWasNotSubscribedClosesItsNeverJoinedDeviceOnceItSubscribesAgain()
    {
        await using var proxy = TcpFaultProxy.Start(server.Redis.Port);
        await using var replicaA = StartReplica(proxy.Endpoint);

        var room = await server.CreateRoomAsync();
        await using var owner = await server.JoinAsync(room, "olga", "owner");
        await using var phone = await server.JoinAsync(room, "bob");
        await using var tablet = await HubTestClient.ConnectAsync(replicaA.BaseUrl, await server.TokenAsync(room, "bob"));

        // The handshake is answered before A subscribes the connection on SignalR's backplane; a link dropped while
        // those SUBSCRIBEs are on the wire fails the connect, and A closes it (seen on a loaded CI box). A call is
        // dispatched only once the connect is done: a Leave of a room not joined is a no-op that proves it.
        await tablet.InvokeAsync("Leave", room.Id);
        await WaitForSubscribersAsync(2, "A and B both listen on rs-removals");

        proxy.Drop();
        await WaitForSubscribersAsync(1, "A's subscription went with its link");

        (await server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Subscribers()).Should().Be(1, "the removal was published while only B was subscribed: A missed it");
        await phone.Client.Closed.WaitAsync(Bound);

        // Admitted again while A is cut: A cannot check the token with the store, so admits it (DESIGN.md §3).
        await using var laptop = await HubTestClient.ConnectAsync(replicaA.BaseUrl, await server.TokenAsync(room, "bob"));
        var first = await Task.WhenAny(tablet.Closed, Task.Delay(TimeSpan.FromSeconds(1)));
        first.Should().NotBe(tablet.Closed, $"nothing told A of the removal (closed with: {(first == tablet.Closed ? await tablet.Closed ?? "a clean close" : null)})");

        proxy.Heal();
        await WaitForSubscribersAsync(2, "A subscribed again");
        // Told why before the close: the Removed the removal sent went on SignalR's backplane while A was cut. The
        // catch-up knows only the removal's generation, not who made it: by is null.
        (await tablet.ShouldBeToldRemovedThenClosedAsync(room.Id, "bob", by: null, Bound)).Should().Be(1);
        (await Task.WhenAny(laptop.Closed, Task.Delay(TimeSpan.FromSeconds(1)))).Should().NotBe(laptop.Closed, "a token issued after the removal re-admits the member");
    }

    private InProcessRoomServer StartReplica(string redisEndpoint)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = redisEndpoint,
            ["RoomServer:ApiKeys:0"] = server.ApiKey,
            ["RoomServer:Jwt:SigningKey"] = server.SigningKey,
            ["RoomServer:ReplicaId"] = "replica-a",
            ["RoomServer:StoreTimeoutMilliseconds"] = "1500",
            ["RoomServer:HeartbeatMilliseconds"] = DeafReplicaServer.HeartbeatMilliseconds,
        };
        foreach (var (key, value) in LiftedLimits.AsConfiguration())
        {
            settings[key] = value;
        }

        var replica = new InProcessRoomServer(settings, FreePort.Next());
        replica.StartServer();
        return replica;
    }

    private async Task<long> Subscribers()
    {
        var reply = await server.Redis.ExecuteListAsync("PUBSUB", "NUMSUB", "rs-removals");
        return long.Parse(reply[1]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task WaitForSubscribersAsync(long count, string because)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (await Subscribers() != count)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, because);
            await Task.Delay(50);
        }
    }
}
