using RoomShare.RoomServer.Orders;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Embedded;

/// <summary>Embedded rooms expire like Redis keys do: a TTL after their last accepted change (Redis keys up to a slack later, prelude.lua room_life).</summary>
public sealed class InMemoryRoomStoreExpiryTests
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 21, 20, 0, 0, TimeSpan.Zero));
    private readonly InMemoryRoomStore _store;

    public InMemoryRoomStoreExpiryTests() =>
        _store = new InMemoryRoomStore(new InProcessBackplane(), new InMemoryOrderOutbox(new OrderOutboxSignal(), Options.Create(new RoomServerOptions()), _clock), Options.Create(new RoomServerOptions()), _clock);

    [Fact]
    public async Task ARoomExpiresItsTtlAfterItsLastChangeAndEveryChangeExtendsIt()
    {
        var room = new NewRoom("r1", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromMinutes(10), "t");
        (await _store.CreateAsync(room, CancellationToken.None)).Should().BeTrue();

        _clock.Advance(TimeSpan.FromMinutes(9));
        await _store.ChangeChoiceAsync(new ChoiceChange("r1", "ann", "pizza", ChoiceMode.Set, 1, null, "t"), CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(9));
        (await _store.ExistsAsync("r1", CancellationToken.None)).Should().BeTrue("the change at minute 9 extended it to minute 19");

        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        (await _store.ExistsAsync("r1", CancellationToken.None)).Should().BeFalse();
        var read = () => _store.GetSnapshotAsync("r1", CancellationToken.None);
        (await read.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be("room_not_found");
        var write = () => _store.RefreshAsync(new RefreshRequest("r1", "ann", "t"), CancellationToken.None);
        (await write.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be("room_not_found");
        var audit = () => _store.ReadEventsAsync("r1", 1, 100, CancellationToken.None);
        (await audit.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be("room_not_found", "the audit trail expires with the room");
    }

    [Fact]
    public async Task AReplayedOpIdDoesNotExtendTheRoomAsAChangeWithoutOneDoes()
    {
        // As choice.lua: a known opId is answered before anything is written, the TTL included.
        var room = new NewRoom("r3", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromMinutes(10), "t");
        (await _store.CreateAsync(room, CancellationToken.None)).Should().BeTrue();
        var change = new ChoiceChange("r3", "ann", "pizza", ChoiceMode.Set, 1, "op-1", "t");
        var first = await _store.ChangeChoiceAsync(change, CancellationToken.None);

        _clock.Advance(TimeSpan.FromMinutes(9));
        (await _store.ChangeChoiceAsync(change, CancellationToken.None)).Should().Be(first with { Replayed = true });
        _clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        (await _store.ExistsAsync("r3", CancellationToken.None)).Should().BeFalse("the replay at minute 9 changed nothing, its TTL neither");
    }

    [Fact]
    public async Task AnExpiredRoomsIdCanBeUsedAgainWithAFreshEpoch()
    {
        var first = new NewRoom("r2", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromMinutes(1), "t");
        await _store.CreateAsync(first, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(2));

        (await _store.CreateAsync(first with { Epoch = "e2" }, CancellationToken.None)).Should().BeTrue();
        (await _store.GetSnapshotAsync("r2", CancellationToken.None)).Should().BeEquivalentTo(new { Epoch = "e2", Version = 0L });
    }
}
