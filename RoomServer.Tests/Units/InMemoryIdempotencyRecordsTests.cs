using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>DESIGN §4: embedded mode keeps at most 100 000 records of each kind — a flood of one kind's keys pushes out none of another's.</summary>
public sealed class InMemoryIdempotencyRecordsTests
{
    [Fact]
    public async Task AFullStoreOfAnnouncementKeysKeepsTheRoomRecords()
    {
        var records = new InMemoryIdempotencyRecords(Options.Create(new RoomServerOptions()), TimeProvider.System);
        var room = new IdempotencyKey("00aa", "room-key", "digest");
        await records.ClaimAsync(IdempotencyScope.Rooms, room, "first", null, CancellationToken.None);

        for (var i = 0; i <= ExpiringRecords<IdempotencyRecord>.Capacity; i++)
        {
            await records.ClaimAsync(IdempotencyScope.Announcements, new IdempotencyKey("00aa", "k" + i, "digest"), "sent", null, CancellationToken.None);
        }

        (await records.ClaimAsync(IdempotencyScope.Rooms, room, "second", null, CancellationToken.None)).Value
            .Should().Be("first", "the room's record was not pushed out by announcements");
    }
}
