using System.Globalization;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Hubs;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// <c>roomshare_deliveries_total</c> (DESIGN.md §9) counts room messages written to connections, and only those: what
/// is kept for a Join the store has not admitted yet counts when the admitted Join writes it, once, and not at all when
/// the store refuses the Join. The store's Join is held (<see cref="JoinHold"/>) while the room changes, so the tests do
/// not depend on timing; the counter is read in-process as it stands when a barrier event has been fanned out.
/// Regression: every message was counted once per connection in the room, kept (and later dropped) or not.
/// </summary>
public abstract class HeldJoinDeliveriesTests(ContractServer server, JoinHold hold)
{
    private const int HeldChanges = 5;

    [Fact]
    public async Task MessagesKeptForAJoinTheStoreRefusesAreNotCountedAsDelivered()
    {
        var room = await server.CreateRoomAsync();
        await using var olga = await server.JoinAsync(room, "olga", "owner");
        await using var ann = await server.JoinAsync(room, "ann");
        // Ann's second device: one connection per member here (Settings), so the store refuses its Join.
        await using var device = await server.ConnectAsync(await server.TokenAsync(room, "ann"));
        using var deliveries = new DeliveriesAtEvents(server.Services, room.Id);
        var start = await BarrierAsync(room, olga.Client, deliveries, ann.Client);

        hold.Arm("ann");
        var join = device.RejectedCodeUnlessClosedFirstAsync("Join", room.Id, null);
        var last = await ChangeWhileHeldAsync(room, olga.Client);
        (await join).Should().Be(RoomErrorCodes.RateLimited, "one connection more than the member may have");
        var end = await BarrierAsync(room, olga.Client, deliveries, ann.Client);

        foreach (var member in new[] { olga, ann })
        {
            Versions(member.Client, start.Version, last).Should().Equal(Changes(start.Version), $"{member.MemberId} received every change once");
        }

        device.Received("RoomEvent").Should().BeEmpty("the refused device was sent nothing of the room");
        (end.Messages - start.Messages).Should().Be(HeldChanges + 1, "the held changes and the closing barrier, nothing else");
        (end.Deliveries - start.Deliveries).Should().Be(
            2 * (HeldChanges + 1), "each was written to olga and ann; the copies kept for the refused Join were dropped, never written");
    }

    [Fact]
    public async Task MessagesKeptForAJoinTheStoreAdmitsAreCountedOnceWhenWritten()
    {
        var room = await server.CreateRoomAsync();
        await using var olga = await server.JoinAsync(room, "olga", "owner");
        await using var ann = await server.JoinAsync(room, "ann");
        await using var device = await server.ConnectAsync(await server.TokenAsync(room, "bob"));
        using var deliveries = new DeliveriesAtEvents(server.Services, room.Id);
        var start = await BarrierAsync(room, olga.Client, deliveries, ann.Client);

        hold.Arm("bob");
        var join = device.InvokeAsync("Join", room.Id, null);
        var last = await ChangeWhileHeldAsync(room, olga.Client);
        (await join).GetProperty("position").GetProperty("version").GetInt64().Should().BeGreaterThan(last);
        var end = await BarrierAsync(room, olga.Client, deliveries, ann.Client, device);

        Versions(device, start.Version, last).Should().Equal(Changes(start.Version), "the kept changes were written to bob once, in order");
        var messages = end.Messages - start.Messages;
        messages.Should().BeGreaterThanOrEqualTo(HeldChanges + 2, "the held changes, bob's joining and the closing barrier");
        (end.Deliveries - start.Deliveries).Should().Be(
            3 * messages, "every one was written to olga, ann and bob once: bob's kept ones when his Join was admitted");
    }

    /// <summary>Changes the room while a Join is held at the store; returns the last version.</summary>
    private async Task<long> ChangeWhileHeldAsync(TestRoom room, HubTestClient writer)
    {
        await hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            var last = 0L;
            for (var quantity = 1; quantity <= HeldChanges; quantity++)
            {
                last = (await writer.SetChoiceAsync(room, "cola", quantity)).Version;
            }

            return last;
        }
        finally
        {
            hold.Release();
        }
    }

    /// <summary>The versions of the RoomEvents a client received after <paramref name="after"/>, through <paramref name="last"/>.</summary>
    private static IEnumerable<long> Versions(HubTestClient client, long after, long last) =>
        client.Received("RoomEvent").Select(e => e.GetProperty("version").GetInt64()).Where(v => v > after && v <= last);

    /// <summary>The versions of the held changes, which follow the barrier at <paramref name="after"/>.</summary>
    private static IEnumerable<long> Changes(long after) => Enumerable.Range(1, HeldChanges).Select(i => after + i);

    /// <summary>A change every reader has received: the counter as it stood once it was fanned out.</summary>
    private static async Task<(long Version, long Messages, long Deliveries)> BarrierAsync(
        TestRoom room, HubTestClient writer, DeliveriesAtEvents deliveries, params HubTestClient[] readers)
    {
        var version = (await writer.AdjustChoiceAsync(room, "pizza", 1)).Version;
        foreach (var reader in readers)
        {
            await reader.WaitForAsync("RoomEvent", e => e.GetProperty("version").GetInt64() == version, TimeSpan.FromSeconds(10));
        }

        var mark = await deliveries.AtEventAsync(version);
        return (version, mark.Messages, mark.Deliveries);
    }

    private static Dictionary<string, string> OneConnectionPerMember() => new()
    {
        ["RoomServer:Limits:MaxConnectionsPerMember"] = 1.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Embedded mode, its store's Join held on demand, one connection per member.</summary>
    public sealed class EmbeddedServer : JoinHoldEmbeddedServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = OneConnectionPerMember();
    }

    /// <summary>Redis mode, its store's Join held on demand, one connection per member.</summary>
    public sealed class RedisServer : JoinHoldRedisServer
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = OneConnectionPerMember();
    }
}

[Trait("Suite", "Contract")]
public sealed class EmbeddedHeldJoinDeliveriesTests(HeldJoinDeliveriesTests.EmbeddedServer server)
    : HeldJoinDeliveriesTests(server, server.Hold), IClassFixture<HeldJoinDeliveriesTests.EmbeddedServer>;

[Trait("Suite", "Contract")]
public sealed class RedisHeldJoinDeliveriesTests(HeldJoinDeliveriesTests.RedisServer server)
    : HeldJoinDeliveriesTests(server, server.Hold), IClassFixture<HeldJoinDeliveriesTests.RedisServer>;
