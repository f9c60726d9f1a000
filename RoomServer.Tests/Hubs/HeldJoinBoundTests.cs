using System.Globalization;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// What a connection's Join is sent while the store decides (kept back until the store admits it) counts against
/// <c>MaxPendingBytesPerConnection</c> like what waits for its socket (DESIGN.md §6): a busy room while the store is
/// slow drops the connection to a resync instead of growing the replica's memory. The store's Join is held open here
/// (<see cref="JoinHold"/>) while the room sends more than the bound, so the test does not depend on timing.
/// </summary>
public abstract class HeldJoinBoundTests(ContractServer server, JoinHold hold)
{
    /// <summary>The smallest bound start-up accepts with the suite's notices: twice the largest notice event.</summary>
    public const int PendingBound = 2 * (ContractServer.MaxNoticePayloadBytes + 4096);

    [Fact]
    public async Task AJoinWaitingForTheStoreWhileItsRoomSendsMoreThanTheBoundIsDroppedToAResync()
    {
        var room = await server.CreateRoomAsync();
        await using var olga = await server.JoinAsync(room, "olga", "owner");
        var reconnect = new AskedOnlyRetryPolicy();
        await using var device = await server.ConnectAsync(await server.TokenAsync(room, "bob"), o => o.Reconnect = reconnect);

        hold.Arm("bob");
        var join = device.RejectedCodeUnlessClosedFirstAsync("Join", room.Id, null);
        await hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            // Each notice's event is a little under the largest: past the bound after a handful.
            var payload = new string('x', ContractServer.MaxNoticePayloadBytes - 64);
            for (var i = 0; i < (PendingBound / ContractServer.MaxNoticePayloadBytes) + 2; i++)
            {
                using var notice = await server.Api.PostAsJsonAsync(new Uri($"/api/rooms/{room.Id}/notices", UriKind.Relative), new { kind = "menu", payload });
                notice.IsSuccessStatusCode.Should().BeTrue(await notice.Content.ReadAsStringAsync());
            }

            // Dropped while its Join still waits for the store (a timeout here: it was not).
            await device.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            hold.Release();
        }

        (await join).Should().BeNull("the Join never completes: its connection closed first");
        device.Received("RoomEvent").Should().BeEmpty("nothing kept for it was sent");
        reconnect.Asked.Should().Be(1, "a drop to a resync lets the client reconnect and Join(since) (DESIGN.md §9), so its automatic reconnect starts");
    }

    private static Dictionary<string, string> Bound() => new()
    {
        ["RoomServer:Limits:MaxPendingBytesPerConnection"] = PendingBound.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Embedded mode, its store's Join held on demand, the pending bound at its smallest.</summary>
    public sealed class EmbeddedServer : JoinHoldEmbeddedServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = Bound();
    }

    /// <summary>Redis mode, its store's Join held on demand, the pending bound at its smallest.</summary>
    public sealed class RedisServer : JoinHoldRedisServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = Bound();
    }
}

[Trait("Suite", "Contract")]
public sealed class EmbeddedHeldJoinBoundTests(HeldJoinBoundTests.EmbeddedServer server)
    : HeldJoinBoundTests(server, server.Hold), IClassFixture<HeldJoinBoundTests.EmbeddedServer>;

[Trait("Suite", "Contract")]
public sealed class RedisHeldJoinBoundTests(HeldJoinBoundTests.RedisServer server)
    : HeldJoinBoundTests(server, server.Hold), IClassFixture<HeldJoinBoundTests.RedisServer>;
