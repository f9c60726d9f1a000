using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2, <c>ReplicasToAcknowledge</c>), a retried choice answered from its
/// opId (its write was made earlier, maybe by another replica, and answered <c>unavailable</c> there) is
/// acknowledged only once a replica holds that write: <c>WAIT</c> counts only what the asking connection
/// wrote, so the replay must write too (<see cref="ConfirmedWritesStage"/>, its replica frozen).
/// </summary>
public sealed class ConfirmedChoiceReplayTests
{
    private const string Room = "confirmedreplay1";
    private const string Member = "ann";

    [Fact]
    public async Task ARetriedChoiceAnsweredFromItsOpIdIsConfirmedBeforeItIsAcknowledged()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var (r1, r2, replica) = (stage.First, stage.Second, stage.Replica);
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
