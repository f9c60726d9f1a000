using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Embedded mode's outbox has the Redis outbox's semantics (a manual clock, no waiting): records only
/// with their transitions, one record per room at a time in version order, takeover after the claim
/// timeout, a retried dead letter back for its endpoint with its body.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class InMemoryOrderOutboxTests
{
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(30);
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryOrderOutbox _outbox;
    private readonly InMemoryRoomStore _store;

    public InMemoryOrderOutboxTests()
    {
        var options = Options.Create(new RoomServerOptions());
        _outbox = new InMemoryOrderOutbox(new OrderOutboxSignal(), options, _clock);
        _store = new InMemoryRoomStore(new InProcessBackplane(), _outbox, options, _clock);
    }

    [Fact]
    public async Task RecordsComeOneAtATimeInVersionOrderAndAStaleClaimIsTakenOver()
    {
        await CreateAsync("r1");
        var submitted = await SetStateAsync("r1", RoomStates.Locked);
        var reopened = await SetStateAsync("r1", RoomStates.Open);

        var first = await ClaimAsync("r1", "a");
        first.Should().NotBeNull();
        first!.Type.Should().Be(OrderRecordTypes.Submitted);
        first.OrderId.Should().Be($"r1:{submitted}");
        (await _outbox.ClaimNextAsync("r1", "b", ClaimTimeout)).Outcome.Should().Be(ClaimOutcome.Busy, "a's record is still being delivered");

        _clock.Advance(ClaimTimeout);
        var takenOver = await ClaimAsync("r1", "b");
        takenOver!.EntryId.Should().Be(first.EntryId, "a stopped renewing its claim, so b takes the same record — not the next one");
        (await _outbox.KeepClaimAsync(first, "a")).Should().BeFalse("a's claim lapsed and b took the record over: a must not take it back");
        (await _outbox.SettleAsync(first, "a")).Should().BeFalse("b holds the record now");
        (await _outbox.ClaimNextAsync("r1", "c", ClaimTimeout)).Outcome.Should().Be(ClaimOutcome.Busy, "a's settle changed nothing: b holds the record");
        (await _outbox.SettleAsync(takenOver, "b")).Should().BeTrue();

        var second = await ClaimAsync("r1", "a");
        (second!.Type, second.Version).Should().Be((OrderRecordTypes.Reopened, reopened));
        await _outbox.SettleAsync(second, "a");
        (await _outbox.ClaimNextAsync("r1", "a", ClaimTimeout)).Outcome.Should().Be(ClaimOutcome.Empty);
        (await _outbox.RoomsWithWorkAsync(1000)).Should().BeEmpty();
    }

    /// <summary>
    /// What the operator view needs to tell an endpoint configured since a record was settled (not_sent) from one the
    /// record still goes to (pending), as the Redis outbox tells it (AddedEndpointReplicaTests).
    /// </summary>
    [Fact]
    public async Task ARecordAwaitsTheConfiguredEndpointsUntilSettledAndARetriedDeadLetterGoesToItsOneEndpoint()
    {
        await CreateAsync("r4");
        await SetStateAsync("r4", RoomStates.Locked);
        (await _outbox.RecordsAsync("r4")).Single().AwaitsConfiguredEndpoints.Should().BeTrue("not read yet");

        var entry = await ClaimAsync("r4", "a");
        (await _outbox.RecordsAsync("r4")).Single().AwaitsConfiguredEndpoints.Should().BeTrue("held, being delivered");

        await _outbox.DeadLetterAsync(new DeadLetter("", entry!.OrderId, "r4", entry.Type, entry.Version, entry.At, "https://kitchen.example/a", 8, "HTTP 500", "t", entry.Body));
        await _outbox.SettleAsync(entry, "a");
        (await _outbox.RecordsAsync("r4")).Single().AwaitsConfiguredEndpoints.Should().BeFalse("settled");

        await _outbox.RetryAsync((await _outbox.DeadLettersAsync(null, 1000)).Single().Id);
        (await _outbox.RecordsAsync("r4")).Single().AwaitsConfiguredEndpoints.Should().BeFalse("the retried copy goes to its one endpoint, not to every one");
    }

    [Fact]
    public async Task ANoOpOrRefusedTransitionWritesNoRecordAndEveryHandOffTransitionWritesOne()
    {
        await CreateAsync("r2");
        await SetStateAsync("r2", RoomStates.Open);
        await SetStateAsync("r2", RoomStates.Locked);
        await SetStateAsync("r2", RoomStates.Locked);
        await SetStateAsync("r2", RoomStates.Closed);
        var refused = () => SetStateAsync("r2", RoomStates.Open);
        (await refused.Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.RoomClosed);

        (await _outbox.RecordsAsync("r2")).Select(r => r.Type).Should().Equal(OrderRecordTypes.Submitted, OrderRecordTypes.Closed);
    }

    [Fact]
    public async Task ARenewedClaimKeepsOthersOffAndARetriedDeadLetterComesBackForItsEndpointWithItsBody()
    {
        await CreateAsync("r3");
        await SetStateAsync("r3", RoomStates.Locked);
        var entry = (await ClaimAsync("r3", "a"))!;
        _clock.Advance(ClaimTimeout - TimeSpan.FromSeconds(1));
        (await _outbox.KeepClaimAsync(entry, "a")).Should().BeTrue("a still holds it");
        _clock.Advance(TimeSpan.FromSeconds(2));
        (await _outbox.ClaimNextAsync("r3", "b", ClaimTimeout)).Outcome.Should().Be(ClaimOutcome.Busy, "a renewed its claim");

        await _outbox.DeadLetterAsync(new DeadLetter("", entry.OrderId, "r3", entry.Type, entry.Version, entry.At, "https://kitchen.example/a", 8, "HTTP 500", "t", entry.Body));
        (await _outbox.SetDeliveryAsync(entry, "a", "https://kitchen.example/a", new EndpointDelivery(DeliveryStatuses.Dead, 8, "HTTP 500"))).Should().BeTrue("a holds it");
        await _outbox.SettleAsync(entry, "a");
        var dead = (await _outbox.DeadLettersAsync(null, 1000)).Should().ContainSingle().Subject;

        (await _outbox.RetryAsync(dead.Id)).Should().Be(dead.RoomId);
        (await _outbox.RetryAsync(dead.Id)).Should().BeNull("it is no longer a dead letter");
        var again = (await ClaimAsync("r3", "b"))!;
        (again.OrderId, again.Body, again.OnlyEndpoint).Should().Be((entry.OrderId, entry.Body, "https://kitchen.example/a"));
        again.Deliveries["https://kitchen.example/a"].Status.Should().Be(DeliveryStatuses.Pending);
        (await _outbox.RecordsAsync("r3")).Should().ContainSingle("a retried record is one record");
    }

    [Fact]
    public async Task ASettledOutboxIsKeptWhileItsRoomLivesAndPurgedOnceItIsGone()
    {
        // r4 lives a day: longer than the default room TTL, the least a settled outbox is kept.
        var settings = new RoomServerOptions();
        (await _store.CreateAsync(new NewRoom("r4", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromDays(1), "t"), CancellationToken.None))
            .Should().BeTrue();
        await SetStateAsync("r4", RoomStates.Locked);
        await _outbox.SettleAsync((await ClaimAsync("r4", "a"))!, "a");

        // Settled for longer than the default room TTL, the room still there; any new record purges.
        _clock.Advance(TimeSpan.FromMinutes(settings.DefaultRoomTtlMinutes + 1));
        await CreateAsync("r5");
        await SetStateAsync("r5", RoomStates.Locked);
        (await _outbox.RecordsAsync("r4")).Should().ContainSingle("the operator view keeps a live room's records");

        _clock.Advance(TimeSpan.FromDays(1));
        await CreateAsync("r6");
        await SetStateAsync("r6", RoomStates.Locked);
        (await _outbox.RecordsAsync("r4")).Should().BeEmpty("the room is gone and its records settled long ago");
    }

    [Fact]
    public async Task ARecordAppendedLongAfterTheOutboxLastSettledIsDeliveredEvenIfItsRoomIsDeletedMeanwhile()
    {
        // r7 lives a day; its first record settles, then it stays locked past the default room TTL.
        var settings = new RoomServerOptions();
        (await _store.CreateAsync(new NewRoom("r7", "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromDays(1), "t"), CancellationToken.None))
            .Should().BeTrue();
        await SetStateAsync("r7", RoomStates.Locked);
        await _outbox.SettleAsync((await ClaimAsync("r7", "a"))!, "a");
        _clock.Advance(TimeSpan.FromMinutes(settings.DefaultRoomTtlMinutes + 1));

        // Closed, then deleted before any worker claims the close's record; another room's transition purges.
        await SetStateAsync("r7", RoomStates.Closed);
        await _store.DeleteAsync(new RoomDeletion("r7", "t"), CancellationToken.None);
        await CreateAsync("r8");
        await SetStateAsync("r8", RoomStates.Locked);

        var claim = await ClaimAsync("r7", "a");
        claim!.Type.Should().Be(OrderRecordTypes.Closed, "an outbox with a record to deliver outlives its room (DESIGN §8)");
    }

    /// <summary>
    /// DESIGN.md §8: a replica has up to 1 000 rooms in delivery, "the least recently announced first (a room's transition
    /// announces it again)", as the Redis index's scores order them; embedded mode's polls take the same order.
    /// </summary>
    [Fact]
    public async Task PollsTakeTheLeastRecentlyAnnouncedRoomsFirst()
    {
        foreach (var room in new[] { "w1", "w2", "w3" })
        {
            await CreateAsync(room);
            await SetStateAsync(room, RoomStates.Locked);
        }

        await SetStateAsync("w1", RoomStates.Open);
        (await _outbox.RoomsWithWorkAsync(1000)).Select(r => r.RoomId).Should().Equal(["w2", "w3", "w1"], "w1's second transition announced it again");
        (await _outbox.RoomsWithWorkAsync(2)).Select(r => r.RoomId).Should().Equal(["w2", "w3"]);

        // A retried dead letter announces its room again too, as the Redis outbox's retry does.
        var entry = await ClaimAsync("w2", "a");
        await _outbox.DeadLetterAsync(new DeadLetter("", entry!.OrderId, "w2", entry.Type, entry.Version, entry.At, "https://kitchen.example/a", 8, "HTTP 500", "t", entry.Body));
        await _outbox.SettleAsync(entry, "a");
        (await _outbox.RoomsWithWorkAsync(1000)).Select(r => r.RoomId).Should().Equal(["w3", "w1"], "w2 has nothing left to deliver");
        await _outbox.RetryAsync((await _outbox.DeadLettersAsync(null, 1000)).Single(d => d.RoomId == "w2").Id);
        (await _outbox.RoomsWithWorkAsync(1000)).Select(r => r.RoomId).Should().Equal(["w3", "w1", "w2"]);
    }

    private async Task CreateAsync(string roomId) =>
        (await _store.CreateAsync(new NewRoom(roomId, "e1", "Table", [new MenuItem("pizza", "Pizza", 1000)], TimeSpan.FromHours(1), "t"), CancellationToken.None))
            .Should().BeTrue();

    private async Task<long> SetStateAsync(string roomId, string state) =>
        (await _store.SetStateAsync(new StateChange(roomId, state, "api", "t"), CancellationToken.None)).Version;

    private async Task<OutboxEntry?> ClaimAsync(string roomId, string consumer)
    {
        var claim = await _outbox.ClaimNextAsync(roomId, consumer, ClaimTimeout);
        claim.Outcome.Should().Be(ClaimOutcome.Claimed);
        return claim.Entry;
    }
}
