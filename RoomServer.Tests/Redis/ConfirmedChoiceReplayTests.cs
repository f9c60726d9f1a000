using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2, <c>ReplicasToAcknowledge</c>), a retried choice answered from its
/// opId (its write was made earlier, maybe by another replica, and answered <c>unavailable</c> there) is
/// acknowledged only once a replica holds that write: <c>WAIT</c> counts only what the asking connection
/// wrote, so the replay must write too. Two replicas of RoomShare, each its own Redis connection, against
/// a master whose one replica is frozen (SIGSTOP: linked, acknowledging nothing).
/// </summary>
public sealed class ConfirmedChoiceReplayTests
{
    private const string Room = "confirmedreplay1";
    private const string Member = "ann";

    [Fact]
    public async Task ARetriedChoiceAnsweredFromItsOpIdIsConfirmedBeforeItIsAcknowledged()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        var options = Options.Create(new RoomServerOptions
        {
            Redis = new RedisOptions { ReplicasToAcknowledge = 1 },
            HeartbeatMilliseconds = 60_000, // the stores' heartbeats are never started: hearing for 3 minutes
        });
        await using var first = await StandaloneRedisConnection.StartAsync(master.Endpoint, "r1", options.Value);
        await using var second = await StandaloneRedisConnection.StartAsync(master.Endpoint, "r2", options.Value);
        var r1 = first.RoomStore(options);
        var r2 = second.RoomStore(options);
        (await r1.CreateAsync(new NewRoom(Room, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();
        await r1.JoinAsync(new JoinRequest(Room, Member, "Ann", new ConnectionKey("r1", "c1"), null, At), CancellationToken.None);

        PosixSignal.Stop(replica.Pid);
        try
        {
            var write = () => r1.ChangeChoiceAsync(Choice("op-1"), CancellationToken.None);
            (await write.Should().ThrowAsync<RoomException>("no replica confirmed it")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);

            // The client retries the same opId; it reaches the other replica, whose connection wrote nothing since.
            var retry = () => r2.ChangeChoiceAsync(Choice("op-1"), CancellationToken.None);
            (await retry.Should().ThrowAsync<RoomException>("the write it answers for is still unconfirmed"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);

            // A retry whose arguments no longer pass the hub's checks is answered by opId alone: confirmed too.
            var replay = () => r2.ReplayChoiceAsync(new ChoiceReplay(Room, Member, "op-1", 0), CancellationToken.None);
            (await replay.Should().ThrowAsync<RoomException>("the write it answers for is still unconfirmed"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }

        // Once the replica acknowledges again, the same retries are answered with the original result.
        var acknowledged = await Poll.ForAsync<ChoiceAck?>(
            async () =>
            {
                try
                {
                    return (await r2.ChangeChoiceAsync(Choice("op-1"), CancellationToken.None)).Ack;
                }
                catch (RoomException ex) when (ex.Code == RoomErrorCodes.Unavailable)
                {
                    return null;
                }
            },
            ack => ack is not null,
            TimeSpan.FromSeconds(20),
            _ => "the replica confirms again");
        acknowledged!.Quantity.Should().Be(3);
        (await r2.ReplayChoiceAsync(new ChoiceReplay(Room, Member, "op-1", 0), CancellationToken.None))!.Should().Be(acknowledged);
        (await r1.GetSnapshotAsync(Room, CancellationToken.None)).Version.Should().Be(acknowledged.Version, "applied once");
    }

    private const string At = "2026-12-01T00:00:00Z";

    private static ChoiceChange Choice(string opId) => new(Room, Member, "pizza", ChoiceMode.Set, 3, opId, At);
}
