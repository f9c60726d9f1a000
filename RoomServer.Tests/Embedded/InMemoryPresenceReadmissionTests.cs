using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Embedded;

/// <summary>
/// A tick re-creates a live connection's lease that another replica swept (DESIGN.md §3: online = at least
/// one live connection) — but never for a connection whose member was removed after its token was issued.
/// A member removed and re-admitted joins with a newer token: their lease comes back like anyone's.
/// Embedded mode's store with a manual clock; the Redis twin is in RedisStoreTests.
/// </summary>
public sealed class InMemoryPresenceReadmissionTests
{
    [Fact]
    public async Task ARemovedMembersOldConnectionStaysGoneButTheirReadmittedConnectionsLeaseIsRebuilt()
    {
        await using var room = new InMemoryPresenceRoom(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        await room.CreateAsync();
        var settings = InMemoryPresenceRoom.Settings;
        var oldConnection = new ConnectionKey("a", "c1");
        var newConnection = new ConnectionKey("a", "c2");
        await room.JoinAsync("bob", oldConnection, tokenRemovalGeneration: 0);
        await room.Store.RemoveMemberAsync(new MemberRemoval(InMemoryPresenceRoom.RoomId, "bob", "api", "t"), CancellationToken.None);

        // Until it closes, the removed member's old connection is still ticked: it must not come back.
        room.Announced.Clear();
        await room.SweepAsync("a", new LocalConnection(oldConnection, "bob", 0));
        room.Announced.Should().BeEmpty("a removed member's lease is gone for good");

        await room.JoinAsync("bob", newConnection, tokenRemovalGeneration: 1);
        (await room.OnlineAsync("bob")).Should().BeTrue();

        // Replica a stalls past bob's lease; replica b sweeps it away and the grace starts. Then a ticks again.
        room.Clock.Advance(settings.PresenceLease + TimeSpan.FromSeconds(1));
        await room.SweepAsync("b");
        await room.SweepAsync("a", new LocalConnection(newConnection, "bob", 1));
        room.Clock.Advance(TimeSpan.FromSeconds(settings.PresenceGraceSeconds + 1));
        room.Announced.Clear();
        await room.SweepAsync("b");

        room.Announced.Should().NotContain(c => c.MemberId == "bob" && !c.Online, "bob's live connection got its lease back");
        (await room.OnlineAsync("bob")).Should().BeTrue();
    }
}
