using System.Text.Json;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2), a record read is a record confirmed (§4): a notice's <c>Idempotency-Key</c> is
/// refused as reused (422) only for a record a replica holds. Otherwise a failover could drop the first notice and its
/// record, and the caller of the second, told never to retry it, would have lost it for a record that no longer exists.
/// </summary>
public sealed class ConfirmedNoticeKeyTests
{
    private const string Room = "confirmednotice1";
    private const string At = "2026-12-01T00:00:00Z";

    [Fact]
    public async Task AKeyIsRefusedAsReusedOnlyOnceAReplicaHoldsItsRecord()
    {
        await using var stage = await ConfirmedWritesStage.StartAsync();
        var (r1, r2, replica) = (stage.First, stage.Second, stage.Replica);
        (await r1.CreateAsync(new NewRoom(Room, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();
        NoticePublication Notice(string hash) =>
            new(Room, "eta", JsonDocument.Parse("{\"minutes\":5}").RootElement, At, new IdempotencyKey("0a1b2c3d4e5f6071", "k1", hash));

        PosixSignal.Stop(replica.Pid);
        try
        {
            var first = () => r1.PublishNoticeAsync(Notice("aa11"), CancellationToken.None);
            (await first.Should().ThrowAsync<RoomException>("no replica confirmed it")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);

            // Another request under the same key, on the other replica's connection (which wrote nothing since).
            var other = () => r2.PublishNoticeAsync(Notice("bb22"), CancellationToken.None);
            (await other.Should().ThrowAsync<RoomException>("the record it would be refused for is still unconfirmed"))
                .Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }

        // Once the replica acknowledges again, the key is refused as reused, and the replica holds the first notice's record.
        var code = await ConfirmedWritesStage.AnswerOnceConfirmedAsync(() => r2.PublishNoticeAsync(Notice("bb22"), CancellationToken.None));
        code.Should().Be(RoomErrorCodes.InvalidArgument, "422: the key was first used with another request");
        (await replica.ExecuteAsync("EXISTS", RedisKeys.ForNotice(Room, Notice("bb22").Idempotency!)[^1].ToString())).Should().Be("1");
    }
}
