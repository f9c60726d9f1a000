using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// Rooms whose store does not answer — a Redis Cluster shard down: each of its calls waits out the store
/// deadline — must not hold up the position ticks of the rooms whose store answers (their members' presence
/// leases would lapse behind them, DESIGN.md §9). Many rooms on a shard that is lost while the test watches
/// (their sweeps wait 2 s, then answer unavailable) and one healthy room, ticked every second: the healthy
/// room's member goes on getting a position every second or so, from the moment the shard is lost.
/// </summary>
[Trait("Suite", "Limits")]
public sealed class StrugglingRoomTicksTests(DeadShardServer server) : IClassFixture<DeadShardServer>
{
    // More than the main lane's slots and the ticks that may give theirs back (16 + 16): marked one room
    // at a time, the lost shard's first round would fill the main lane for seconds.
    private const int DeadRooms = 120;

    // Until the first of its ticks fails, the lost shard is not yet known: the first 16 of its ticks give their main
    // slot back after 0.5 s (RoomTicker), and the next 16 hold theirs until their sweeps fail at the store deadline.
    // Those started within ~0.7 s of the loss, so the healthy room's first tick after it may wait ~2.7 s for a slot
    // on an idle box; a busy CI box adds its own lateness (3 s was once not enough).
    private static readonly TimeSpan FirstRoundBound = DeadShardServer.StoreDeadline + TimeSpan.FromSeconds(3);

    // From then on the shard's rooms tick in their own lane, and the healthy room's position comes every interval (1 s).
    private static readonly TimeSpan EveryRoundAfter = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task RoomsWhoseShardDoesNotAnswerNeverHoldUpTheTicksOfRoomsWhoseShardDoes()
    {
        var members = new List<JoinedMember>();
        try
        {
            var dead = new List<string>();
            for (var i = 0; i < DeadRooms; i++)
            {
                var room = await server.CreateRoomAsync();
                members.Add(await server.JoinAsync(room, "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                dead.Add(room.Id);
            }

            // Closed before hal joins, as no member: no event reaches hal, so each of its room's ticks sends a
            // Position, which is what shows the ticks going on.
            var healthy = await server.CreateRoomAsync();
            (await server.Api.PutAsJsonAsync($"/api/rooms/{healthy.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();
            var hal = await server.JoinAsync(healthy, "hal");
            members.Add(hal);
            await hal.Client.NextAsync(RoomClientMethods.Position, TimeSpan.FromSeconds(5));

            // The shard is lost: from now on every sweep of its rooms waits 2 s and answers unavailable.
            foreach (var roomId in dead)
            {
                server.Dead[roomId] = 0;
            }

            while (hal.Client.TryRead(RoomClientMethods.Position, out _))
            {
            }

            for (var i = 0; i < 6; i++)
            {
                var position = await hal.Client.NextAsync(RoomClientMethods.Position, i == 0 ? FirstRoundBound : EveryRoundAfter);
                position.GetProperty("roomId").GetString().Should().Be(healthy.Id);
            }

            server.Dead.Values.Should().Contain(failed => failed > 0, "the lost shard's rooms were ticked meanwhile");
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

/// <summary>
/// A limits server whose store puts the rooms in <see cref="Dead"/> on a shard of their own ("lost"), whose
/// sweeps wait 2 s, then answer unavailable; every other room is on shard "live".
/// </summary>
public sealed class DeadShardServer : EmbeddedLimitsServer
{
    public static readonly TimeSpan StoreDeadline = TimeSpan.FromSeconds(2);

    /// <summary>Room id → how many of its sweeps failed.</summary>
    public ConcurrentDictionary<string, int> Dead { get; } = new(StringComparer.Ordinal);

    protected override void ConfigureServices(IServiceCollection services) => RoomStoreInterceptor.Decorate(services, (store, method, args) => method.Name switch
    {
        nameof(IRoomStore.ShardOf) => Dead.ContainsKey((string)args[0]!) ? "lost" : "live",
        nameof(IRoomStore.SweepPresenceAsync) when Dead.ContainsKey(((PresenceSweep)args[0]!).RoomId) =>
            FailLateAsync(((PresenceSweep)args[0]!).RoomId, (CancellationToken)args[1]!),
        _ => null,
    });

    private async Task<SweepOutcome> FailLateAsync(string roomId, CancellationToken cancellationToken)
    {
        await Task.Delay(StoreDeadline, cancellationToken);
        Dead.AddOrUpdate(roomId, 1, (_, failed) => failed + 1);
        throw RoomException.Unavailable("the shard of this room is down (test)");
    }
}
