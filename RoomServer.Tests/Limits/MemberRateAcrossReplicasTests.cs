using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// The member write rate is one bucket in Redis, not one per replica: a member on two replicas at
/// once gets one burst between them. Replica one is the fixture's in-process server, replica two a
/// RoomServer process on the same redis-server with the same keys and limits.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class MemberRateAcrossReplicasTests(RedisLimitsServer server) : IClassFixture<RedisLimitsServer>
{
    [Fact]
    public async Task TwoConnectionsOfOneMemberOnTwoReplicasShareOneBucket()
    {
        var environment = LimitSettings.Environment();
        environment["ConnectionStrings__Redis"] = server.Redis.Endpoint;
        environment["RoomServer__ApiKeys__0"] = server.ApiKey;
        environment["RoomServer__Jwt__SigningKey"] = server.SigningKey;
        environment["RoomServer__ReplicaId"] = "second";
        await using var second = await RoomServerProcess.StartAsync(environment);

        var room = await server.CreateRoomAsync();
        await using var bob = await server.JoinAsync(room, "bob");
        await using var annHere = await server.JoinAsync(room, "ann");
        await using var annThere = await HubTestClient.ConnectAsync(second.BaseUrl, await server.TokenAsync(room, "ann"));
        (await annThere.InvokeAsync<JoinResult>("Join", room.Id, null)).Replica.Should().Be("second");

        var accepted = 0;
        string? code = null;
        for (var i = 0; i < 4 * LimitSettings.MemberOpsBurst && code is null; i++)
        {
            try
            {
                await (i % 2 == 0 ? annHere.Client : annThere).AdjustChoiceAsync(room, "pizza", 1);
                accepted++;
            }
            catch (HubErrorException refused)
            {
                code = refused.Code;
            }
        }

        code.Should().Be(RoomErrorCodes.RateLimited);
        accepted.Should().BeGreaterThanOrEqualTo(LimitSettings.MemberOpsBurst)
            .And.BeLessThan(2 * LimitSettings.MemberOpsBurst, "one bucket across replicas, not one per replica");
        var snapshot = await server.SnapshotAsync(room);
        snapshot.Version.Should().Be(2 + accepted, "the refused write took no version");
        snapshot.Choices.Should().ContainSingle().Which.Quantity.Should().Be(accepted);

        // Nothing was published for it: bob's next event after the last accepted one is his own.
        (await bob.Client.AdjustChoiceAsync(room, "cola", 1)).Version.Should().Be(3 + accepted);
        await bob.Client.SkipEventsThroughAsync(2 + accepted);
        (await bob.Client.NextEventShouldBeAsync(3 + accepted)).MemberId.Should().Be("bob");
    }
}
