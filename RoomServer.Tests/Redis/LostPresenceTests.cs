using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Presence is not versioned, so a lost announcement shows in no position. Pub/sub loses messages only
/// while a subscriber is cut off; once the backplane is restored, the replica sends every member's
/// presence (DESIGN §9: no silent staleness).
/// </summary>
public sealed class LostPresenceTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    [Fact]
    public async Task AnOfflineAnnouncementLostByPubSubReachesTheRoomOnceTheBackplaneIsRestored()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        var bob = await server.JoinAsync(room, "bob");
        await bob.DisposeAsync();
        await Poll.UntilAsync(async () => await server.Redis.ExecuteAsync("HEXISTS", $"rs:{{{room.Id}}}:presence", "g:bob") == "1",
            TimeSpan.FromSeconds(10), "bob's grace starts");

        // The sweep announcing him offline runs just as Redis drops the subscribers (grace 0 so it fires now).
        await DeafRoomScripts.RunAsync(server.Redis, RedisScripts.Sweep, room.Id, 15000, 0);
        (await server.SnapshotAsync(room)).Members.Should().Contain(m => m.MemberId == "bob" && !m.Online);

        var heard = false;
        try
        {
            await ann.Client.WaitForAsync("Presence", p => p.GetProperty("memberId").GetString() == "bob" && !p.GetProperty("online").GetBoolean(), TimeSpan.FromSeconds(10));
            heard = true;
        }
        catch (TimeoutException)
        {
        }

        heard.Should().BeTrue("after the backplane is restored, a member learns presence changes it missed (DESIGN §9)");
    }
}
