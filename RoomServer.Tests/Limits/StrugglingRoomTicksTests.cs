using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// Rooms whose store does not answer — a Redis Cluster shard down: each of its calls waits out the store
/// deadline — must not hold up the position ticks of the rooms whose store answers (their members' presence
/// leases would lapse behind them, DESIGN.md §9). Many rooms on a "dead shard" here (their sweeps wait 2 s,
/// then answer unavailable) and one healthy room, ticked every second: the healthy room's member goes on
/// getting a position every second or so.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class StrugglingRoomTicksTests(DeadShardServer server) : IClassFixture<DeadShardServer>
{
    private const int DeadRooms = 60;

    [Fact]
    public async Task RoomsWhoseStoreDoesNotAnswerNeverHoldUpTheTicksOfRoomsWhoseStoreDoes()
    {
        var members = new List<JoinedMember>();
        try
        {
            for (var i = 0; i < DeadRooms; i++)
            {
                var dead = await server.CreateRoomAsync();
                members.Add(await server.JoinAsync(dead, "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                server.Dead[dead.Id] = 0;
            }

            var healthy = await server.CreateRoomAsync();
            var hal = await server.JoinAsync(healthy, "hal");
            members.Add(hal);

            // Every dead room has had a tick fail: from now on their ticks are known to struggle.
            await Poll.UntilAsync(() => server.Dead.Count(d => d.Value > 0) == DeadRooms, TimeSpan.FromSeconds(30), "each dead room's tick failed once");
            while (hal.Client.TryRead(RoomClientMethods.Position, out _))
            {
            }

            for (var i = 0; i < 5; i++)
            {
                var position = await hal.Client.NextAsync(RoomClientMethods.Position, TimeSpan.FromSeconds(2.5));
                position.GetProperty("roomId").GetString().Should().Be(healthy.Id);
            }
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }
}

/// <summary>A limits server whose store's sweeps of the rooms in <see cref="Dead"/> wait 2 s, then answer unavailable.</summary>
public sealed class DeadShardServer : EmbeddedLimitsServer
{
    private static readonly TimeSpan StoreDeadline = TimeSpan.FromSeconds(2);

    /// <summary>Room id → how many of its sweeps failed.</summary>
    public ConcurrentDictionary<string, int> Dead { get; } = new(StringComparer.Ordinal);

    protected override void ConfigureServices(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (store, method, args) =>
        method.Name == nameof(IRoomStore.SweepPresenceAsync) && Dead.ContainsKey(((PresenceSweep)args[0]!).RoomId)
            ? FailLateAsync(((PresenceSweep)args[0]!).RoomId, (CancellationToken)args[1]!)
            : null);

    private async Task<SweepOutcome> FailLateAsync(string roomId, CancellationToken cancellationToken)
    {
        await Task.Delay(StoreDeadline, cancellationToken);
        Dead.AddOrUpdate(roomId, 1, (_, failed) => failed + 1);
        throw RoomException.Unavailable("the shard of this room is down (test)");
    }
}
