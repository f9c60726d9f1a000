using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

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
    private static readonly RoomServerOptions Settings = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InProcessBackplane _backplane = new();
    private readonly InMemoryRoomStore _store;
    private readonly List<PresenceChange> _announced = [];
    private readonly LocalConnection _ann = new(new ConnectionKey("a", "c1"), "ann", 0);
    private readonly LocalConnection _bob = new(new ConnectionKey("b", "c2"), "bob", 0);

    public InMemoryPresenceAfterOutageTests() =>
        _store = new InMemoryRoomStore(_backplane, new InMemoryOrderOutbox(new OrderOutboxSignal(), Options.Create(Settings), _clock), Options.Create(Settings), _clock);

    [Fact]
    public async Task AMemberWhoseReplicaRenewsWithinTheGraceIsNeverAnnouncedOffline()
    {
        await using var _ = await JoinBothThenNoSweepAsync();

        await SweepAsync("a", _ann); // replica a is back first
        _clock.Advance(TimeSpan.FromSeconds(Settings.PresenceGraceSeconds - 1));
        await SweepAsync("b", _bob); // replica b, a moment later

        _announced.Should().NotContain(c => !c.Online, "nobody lost a connection");
        (await OnlineAsync("bob")).Should().BeTrue();
    }

    [Fact]
    public async Task AMemberWhoseReplicaNeverReturnsIsAnnouncedOfflineOneGraceAfterTheExpiryWasNoticed()
    {
        await using var _ = await JoinBothThenNoSweepAsync();

        await SweepAsync("a", _ann);
        (await OnlineAsync("bob")).Should().BeTrue("the grace starts when the expiry is noticed");
        _clock.Advance(TimeSpan.FromSeconds(Settings.PresenceGraceSeconds));
        await SweepAsync("a", _ann);

        _announced.Should().ContainSingle(c => c.MemberId == "bob" && !c.Online);
        (await OnlineAsync("bob")).Should().BeFalse();
        (await OnlineAsync("ann")).Should().BeTrue();
    }

    /// <summary>ann on replica a, bob on replica b, both online; then no sweep for longer than a lease and a grace.</summary>
    private async Task<IAsyncDisposable> JoinBothThenNoSweepAsync()
    {
        await _store.CreateAsync(new NewRoom("r1", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None);
        var subscription = await _backplane.SubscribeAsync("r1", m => { if (m is PresenceMessage p) { _announced.Add(p.Change); } }, CancellationToken.None);
        await _store.JoinAsync(new JoinRequest("r1", "ann", "Ann", _ann.Key, null, "t"), CancellationToken.None);
        await _store.JoinAsync(new JoinRequest("r1", "bob", "Bob", _bob.Key, null, "t"), CancellationToken.None);
        _clock.Advance(Settings.PresenceLease + TimeSpan.FromSeconds(Settings.PresenceGraceSeconds + 5));
        _announced.Clear();
        return subscription;
    }

    private Task<SweepOutcome> SweepAsync(string replica, params LocalConnection[] live) =>
        _store.SweepPresenceAsync(new PresenceSweep("r1", live.Where(c => c.Key.ReplicaId == replica).ToList()), CancellationToken.None);

    private async Task<bool> OnlineAsync(string member) =>
        (await _store.GetSnapshotAsync("r1", CancellationToken.None)).Members.Single(m => m.MemberId == member).Online;
}
