using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Embedded;

/// <summary>
/// A tick re-creates a live connection's lease that another replica swept (DESIGN.md §3: online = at least
/// one live connection) — but never for a connection whose member was removed after its token was issued.
/// A member removed and re-admitted joins with a newer token: their lease comes back like anyone's.
/// Embedded mode's store with a manual clock; the Redis twin is in RedisStoreTests.
/// </summary>
public sealed class InMemoryPresenceReadmissionTests
{
    private static readonly RoomServerOptions Settings = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly InProcessBackplane _backplane = new();
    private readonly InMemoryRoomStore _store;
    private readonly List<PresenceChange> _announced = [];

    public InMemoryPresenceReadmissionTests() =>
        _store = new InMemoryRoomStore(_backplane, new InMemoryOrderOutbox(new OrderOutboxSignal(), Options.Create(Settings), _clock), Options.Create(Settings), _clock);

    [Fact]
    public async Task ARemovedMembersOldConnectionStaysGoneButTheirReadmittedConnectionsLeaseIsRebuilt()
    {
        await _store.CreateAsync(new NewRoom("r1", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None);
        await using var _ = await _backplane.SubscribeAsync("r1", m => { if (m is PresenceMessage p) { _announced.Add(p.Change); } }, CancellationToken.None);
        var oldConnection = new ConnectionKey("a", "c1");
        var newConnection = new ConnectionKey("a", "c2");
        await JoinAsync("bob", oldConnection, tokenRemovalGeneration: 0);
        await _store.RemoveMemberAsync(new MemberRemoval("r1", "bob", "api", "t"), CancellationToken.None);

        // Until it closes, the removed member's old connection is still ticked: it must not come back.
        _announced.Clear();
        await SweepAsync("a", new LocalConnection(oldConnection, "bob", 0));
        _announced.Should().BeEmpty("a removed member's lease is gone for good");

        await JoinAsync("bob", newConnection, tokenRemovalGeneration: 1);
        (await OnlineAsync("bob")).Should().BeTrue();

        // Replica a stalls past bob's lease; replica b sweeps it away and the grace starts. Then a ticks again.
        _clock.Advance(Settings.PresenceLease + TimeSpan.FromSeconds(1));
        await SweepAsync("b");
        await SweepAsync("a", new LocalConnection(newConnection, "bob", 1));
        _clock.Advance(TimeSpan.FromSeconds(Settings.PresenceGraceSeconds + 1));
        _announced.Clear();
        await SweepAsync("b");

        _announced.Should().NotContain(c => c.MemberId == "bob" && !c.Online, "bob's live connection got its lease back");
        (await OnlineAsync("bob")).Should().BeTrue();
    }

    private Task<JoinOutcome> JoinAsync(string member, ConnectionKey connection, long tokenRemovalGeneration) =>
        _store.JoinAsync(new JoinRequest("r1", member, member, connection, null, "t", TokenRemovalGeneration: tokenRemovalGeneration), CancellationToken.None);

    /// <summary>One replica's tick of the room: its live connections renewed, then the sweep.</summary>
    private Task<SweepOutcome> SweepAsync(string replica, params LocalConnection[] live) =>
        _store.SweepPresenceAsync(new PresenceSweep("r1", live.Where(c => c.Key.ReplicaId == replica).ToList()), CancellationToken.None);

    private async Task<bool> OnlineAsync(string member) =>
        (await _store.GetSnapshotAsync("r1", CancellationToken.None)).Members.Single(m => m.MemberId == member).Online;
}
