using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Embedded;

/// <summary>
/// After a time in which no sweep ran (scaled mode: Redis away from every replica), the replica back first
/// finds every other replica's leases long expired. Those members are still connected (DESIGN.md §3: online =
/// at least one live connection; offline only after a grace, "so a reconnect does not flicker"): their grace
/// starts when the expiry is noticed, so their replica can renew them — and a member whose replica did die
/// still goes offline one grace later. Embedded mode's store with a manual clock; the Redis twin is
/// Redis/PresenceAfterOutageTests.
/// </summary>
public sealed class InMemoryPresenceAfterOutageTests
{
    private static readonly int GraceSeconds = InMemoryPresenceRoom.Settings.PresenceGraceSeconds;
    private readonly LocalConnection _ann = new(new ConnectionKey("a", "c1"), "ann", 0);
    private readonly LocalConnection _bob = new(new ConnectionKey("b", "c2"), "bob", 0);

    [Fact]
    public async Task AMemberWhoseReplicaRenewsWithinTheGraceIsNeverAnnouncedOffline()
    {
        await using var room = await JoinBothThenNoSweepAsync();

        await room.SweepAsync("a", _ann); // replica a is back first
        room.Clock.Advance(TimeSpan.FromSeconds(GraceSeconds - 1));
        await room.SweepAsync("b", _bob); // replica b, a moment later

        room.Announced.Should().NotContain(c => !c.Online, "nobody lost a connection");
        (await room.OnlineAsync("bob")).Should().BeTrue();
    }

    [Fact]
    public async Task AMemberWhoseReplicaNeverReturnsIsAnnouncedOfflineOneGraceAfterTheExpiryWasNoticed()
    {
        await using var room = await JoinBothThenNoSweepAsync();

        await room.SweepAsync("a", _ann);
        (await room.OnlineAsync("bob")).Should().BeTrue("the grace starts when the expiry is noticed");
        room.Clock.Advance(TimeSpan.FromSeconds(GraceSeconds));
        await room.SweepAsync("a", _ann);

        room.Announced.Should().ContainSingle(c => c.MemberId == "bob" && !c.Online);
        (await room.OnlineAsync("bob")).Should().BeFalse();
        (await room.OnlineAsync("ann")).Should().BeTrue();
    }

    /// <summary>ann on replica a, bob on replica b, both online; then no sweep for longer than a lease and a grace.</summary>
    private async Task<InMemoryPresenceRoom> JoinBothThenNoSweepAsync()
    {
        var room = new InMemoryPresenceRoom(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        await room.CreateAsync();
        await room.JoinAsync("ann", _ann.Key);
        await room.JoinAsync("bob", _bob.Key);
        room.Clock.Advance(InMemoryPresenceRoom.Settings.PresenceLease + TimeSpan.FromSeconds(GraceSeconds + 5));
        room.Announced.Clear();
        return room;
    }
}
