using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2, <c>ReplicasToAcknowledge</c>), a deletion answered <c>unavailable</c> applied
/// on the master, and its retry finds no room there. "Not found" would be taken as done, and a failover before the replica
/// has the deletion would bring the room back; so the retry is told so only once a replica holds the deletion
/// (<see cref="ConfirmedWritesStage"/>, its replica frozen).
/// </summary>
public sealed class ConfirmedDeleteRetryTests
{
    private const string Room = "confirmeddelete1";
    private const string At = "2026-12-01T00:00:00Z";

    [Fact]
    public async Task ARetriedDeletionIsToldNotFoundOnlyOnceAReplicaHoldsTheDeletion()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var (r1, r2, replica) = (stage.First, stage.Second, stage.Replica);
        (await r1.CreateAsync(new NewRoom(Room, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();

        PosixSignal.Stop(replica.Pid);
        try
        {
            var delete = () => r1.DeleteAsync(new RoomDeletion(Room, At), CancellationToken.None);
            (await delete.Should().ThrowAsync<RoomException>("no replica confirmed it")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);

            // The client retries; it reaches the other replica, whose connection wrote nothing since, and the master has no room.
            var retry = () => r2.DeleteAsync(new RoomDeletion(Room, At), CancellationToken.None);
            (await retry.Should().ThrowAsync<RoomException>("the deletion it would report as done is still unconfirmed"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }

        // Once the replica acknowledges again, the retry hears "not found", and the replica has no room.
        var code = await ConfirmedWritesStage.AnswerOnceConfirmedAsync(() => r2.DeleteAsync(new RoomDeletion(Room, At), CancellationToken.None));
        code.Should().Be(RoomErrorCodes.RoomNotFound);
        (await replica.ExecuteAsync("EXISTS", $"rs:{{{Room}}}:meta")).Should().Be("0", "the replica holds the deletion");

        // A room that never existed is still just not found.
        var never = () => r1.DeleteAsync(new RoomDeletion("neverexisted1", At), CancellationToken.None);
        (await never.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.RoomNotFound);
    }
}
