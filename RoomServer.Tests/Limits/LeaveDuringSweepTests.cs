using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// A connection that leaves while its room's position tick is in flight: the tick's sweep renews every
/// lease it was given, so a lease released under it came back for a moment — long enough for the
/// member's next Join to be refused as over the connection limit (a CI flake of the connection-limit
/// test). The leave waits for the sweep in flight, then releases the lease for good.
/// </summary>
public abstract class LeaveDuringSweepTests(ContractServer server, SweepHold hold)
{
    [Fact]
    public async Task ALeaveWaitsForTheRoomsSweepInFlightAndItsLeaseStaysReleased()
    {
        var room = await server.CreateRoomAsync();
        await using var first = await server.JoinAsync(room, "ann");
        await using var second = await server.JoinAsync(room, "ann");
        hold.Arm(room.Id, connections: 2);
        var held = await hold.Held.WaitAsync(TimeSpan.FromSeconds(10));
        held.Select(c => c.MemberId).Should().Equal(["ann", "ann"], "the held tick renews both of ann's connections");

        bool leftUnderTheSweep;
        var leave = second.Client.InvokeAsync("Leave", room.Id);
        try
        {
            leftUnderTheSweep = await Task.WhenAny(leave, Task.Delay(TimeSpan.FromMilliseconds(500))) == leave;
        }
        finally
        {
            hold.Release();
        }

        leftUnderTheSweep.Should().BeFalse("a leave waits for the room's sweep in flight, which would renew its lease after it");
        await leave.WaitAsync(TimeSpan.FromSeconds(10));

        // Limit 2: with second's lease gone, ann has one connection, so a new one joins at once.
        await using var third = await server.ConnectAsync(await server.TokenAsync(room, "ann"));
        await third.InvokeAsync("Join", room.Id, null);
        await using (var extra = await server.ConnectAsync(await server.TokenAsync(room, "ann")))
        {
            (await extra.RejectedCodeAsync("Join", room.Id, null)).Should().Be(RoomErrorCodes.RateLimited, "first and third are ann's two connections");
        }

        // Third leaves too; after the next ticks (one a second) only first holds a lease, so one more joins.
        await third.InvokeAsync("Leave", room.Id);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await using var fourth = await server.ConnectAsync(await server.TokenAsync(room, "ann"));
        await fourth.InvokeAsync("Join", room.Id, null);
    }
}

/// <summary>A limits server whose store holds one sweep on request.</summary>
public sealed class EmbeddedSweepHoldServer : EmbeddedLimitsServer
{
    public SweepHold Hold { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => Hold.Decorate(services);
}

/// <summary>As <see cref="EmbeddedSweepHoldServer"/>, against Redis.</summary>
public sealed class RedisSweepHoldServer : RedisLimitsServer
{
    public SweepHold Hold { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => Hold.Decorate(services);
}

[Trait("Suite", "Limits")]
public sealed class EmbeddedLeaveDuringSweepTests(EmbeddedSweepHoldServer server)
    : LeaveDuringSweepTests(server, server.Hold), IClassFixture<EmbeddedSweepHoldServer>;

[Trait("Suite", "Limits")]
public sealed class RedisLeaveDuringSweepTests(RedisSweepHoldServer server)
    : LeaveDuringSweepTests(server, server.Hold), IClassFixture<RedisSweepHoldServer>;
