using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Embedded;

/// <summary>
/// One room ("r1") in embedded mode's store on a manual clock, for presence tests: joins, one replica's tick
/// (its live connections renewed, then the sweep), the presence announced, and who reads as online.
/// </summary>
public sealed class InMemoryPresenceRoom : IAsyncDisposable
{
    public const string RoomId = "r1";

    private readonly InProcessBackplane _backplane = new();
    private IAsyncDisposable? _subscription;

    public InMemoryPresenceRoom(DateTimeOffset start)
    {
        Clock = new ManualClock(start);
        Store = new InMemoryRoomStore(_backplane, new InMemoryOrderOutbox(new OrderOutboxSignal(), Options.Create(Settings), Clock), Options.Create(Settings), Clock);
    }

    public static RoomServerOptions Settings { get; } = new();

    public ManualClock Clock { get; }

    public InMemoryRoomStore Store { get; }

    /// <summary>Every Presence the room published since it was created (or last cleared).</summary>
    public List<PresenceChange> Announced { get; } = [];

    public async Task CreateAsync()
    {
        await Store.CreateAsync(new NewRoom(RoomId, "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None);
        _subscription = await _backplane.SubscribeAsync(RoomId, m => { if (m is PresenceMessage p) { Announced.Add(p.Change); } }, CancellationToken.None);
    }

    public Task<JoinOutcome> JoinAsync(string member, ConnectionKey connection, long tokenRemovalGeneration = 0) =>
        Store.JoinAsync(new JoinRequest(RoomId, member, member, connection, null, "t", TokenRemovalGeneration: tokenRemovalGeneration), CancellationToken.None);

    /// <summary>One replica's tick of the room: its live connections renewed, then the sweep.</summary>
    public Task<SweepOutcome> SweepAsync(string replica, params LocalConnection[] live) =>
        Store.SweepPresenceAsync(new PresenceSweep(RoomId, live.Where(c => c.Key.ReplicaId == replica).ToList()), CancellationToken.None);

    public async Task<bool> OnlineAsync(string member) =>
        (await Store.GetSnapshotAsync(RoomId, CancellationToken.None)).Members.Single(m => m.MemberId == member).Online;

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }
}
