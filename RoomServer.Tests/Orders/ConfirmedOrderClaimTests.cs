using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// Where writes are confirmed (DESIGN.md §2, <c>ReplicasToAcknowledge</c>), an order record is handed to the sender only
/// once a Redis replica holds it (§8): a lock answered <c>unavailable</c> may have left its record on the master alone,
/// and a failover would give the room's next transition that version — another order under the same <c>orderId</c>.
/// Real redis-server processes (a master, and a replica that is killed and replaced), records written by state.lua
/// through the real store, the real worker and a real webhook receiver. A claim's <c>WAIT</c> shows as a
/// <c>wait</c> sample of <c>roomshare_redis_duration_milliseconds</c> on the connection's own meters.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class ConfirmedOrderClaimTests
{
    private const string At = "2026-12-01T00:00:00Z";
    private const string Consumer = "r1";

    private static readonly TimeSpan ShortClaim = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan OneSecondClaim = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WithAReplicaConfirmingALockedRoomsRecordIsClaimedOnceTheReplicaHoldsIt()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        var options = Confirming(1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var store = await CreateRoomAsync(standalone, options, "claimheld");
        var version = (await LockAsync(store, "claimheld")).Version;
        using var calls = new RedisCallSamples(standalone.MeterFactory);
        var waitsBefore = calls.Count("wait", "ok");

        var claim = await Outbox(standalone, options).ClaimNextAsync("claimheld", Consumer, TimeSpan.FromSeconds(30));

        claim.Outcome.Should().Be(ClaimOutcome.Claimed);
        (claim.Entry!.OrderId, claim.Entry.Type).Should().Be(($"claimheld:{version}", "order.submitted"));
        calls.Count("wait", "ok").Should().Be(waitsBefore + 1, "the claim was confirmed by WAIT before the record was handed out");
        (await PendingOnAsync(replica, "claimheld")).Should().Be(1, "the replica holds the claim, and so the record before it");
    }

    [Fact]
    public async Task AClaimNoReplicaConfirmsHandsOutNothingAndTheSameRecordIsClaimedOnceAFreshReplicaHoldsIt()
    {
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var outbox = Outbox(standalone, options);
        var orderId = await LockWithoutAReplicaAsync(master, standalone, options, "claimlost");

        var unconfirmed = await outbox.ClaimNextAsync("claimlost", Consumer, ShortClaim);
        unconfirmed.Outcome.Should().Be(ClaimOutcome.Unconfirmed, "no replica holds the record, so it must not leave");
        unconfirmed.Entry.Should().BeNull();
        unconfirmed.Reason.Should().NotBeNullOrEmpty("the answer says why it was not handed out");

        await using var fresh = await RedisServerProcess.StartAsync();
        await fresh.ReplicateAsync(master);
        var claim = await ClaimOnceItLapsesAsync(outbox, "claimlost");
        claim.Entry!.OrderId.Should().Be(orderId, "the same record, its orderId unchanged");
        (await PendingOnAsync(fresh, "claimlost")).Should().Be(1, "the fresh replica holds it");
    }

    /// <summary>
    /// A transition answered <c>unavailable</c> may have written its record (here it did: no replica confirmed it). The
    /// store still tells this replica's worker, which would otherwise leave the record to a sweep (up to a minute) unless
    /// the caller retried.
    /// </summary>
    [Fact]
    public async Task ATransitionAnsweredUnavailableStillTellsThisReplicasWorker()
    {
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var orders = new OrderOutboxSignal();

        await LockWithoutAReplicaAsync(master, standalone, options, "unansweredlock", orders);

        orders.Rooms.TryRead(out var told).Should().BeTrue("the lock's record may be there, so the worker is told");
        told.Should().Be("unansweredlock");
    }

    [Fact]
    public async Task TheWorkerDeliversNothingWhileNoReplicaConfirmsAndThenTheSameOrderOnce()
    {
        await using var receiver = new WebhookReceiver("a-secret-of-enough-length");
        await receiver.StartAsync();
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(1);
        options.Value.Webhooks = new WebhookOptions
        {
            Endpoints = [new WebhookEndpoint { Url = receiver.Url, Secret = receiver.Secret }],
            ClaimTimeoutSeconds = 1,
            PollIntervalMilliseconds = 50,
        };
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var outbox = Outbox(standalone, options);
        var orderId = await LockWithoutAReplicaAsync(master, standalone, options, "workerheld");

        await using var provider = InProcessDeliveryWorker.Build(options, outbox);
        var worker = provider.GetRequiredService<OrderDeliveryWorker>();
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await outbox.AnnounceAsync("workerheld");
            var logs = provider.GetFakeLogCollector();
            int NotConfirmed() => logs.GetSnapshot().Count(r => r.Id.Id == 6015 && r.Message.Contains("workerheld", StringComparison.Ordinal));
            await Poll.UntilAsync(() => receiver.All.Count > 0 || NotConfirmed() >= 2, Delivery, "two claims, or a delivery");
            receiver.All.Should().BeEmpty("no replica holds the record: it must not reach a receiver");
            NotConfirmed().Should().BeGreaterThanOrEqualTo(2, "each claim no replica confirmed is logged (6015): the first, and the one after it lapsed");

            await using var fresh = await RedisServerProcess.StartAsync();
            await fresh.ReplicateAsync(master);
            var delivered = await receiver.NextDeliveredAsync(Delivery);
            (delivered.OrderId, delivered.Type).Should().Be((orderId, "order.submitted"), "the same record, its orderId unchanged");

            // Settled once delivered: more than a claim timeout later, nothing came again.
            await Poll.UntilAsync(
                async () => (await outbox.RecordsAsync("workerheld")).Single().Deliveries.GetValueOrDefault(receiver.Url)?.Status == DeliveryStatuses.Delivered,
                Delivery,
                "the record is settled as delivered");
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            receiver.All.Should().ContainSingle("delivered once");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AnEmptyOrBusyClaimWaitsForNoReplica()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        var options = Confirming(1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var outbox = Outbox(standalone, options);
        await LockAsync(await CreateRoomAsync(standalone, options, "claimidle"), "claimidle");
        var held = (await outbox.ClaimNextAsync("claimidle", "a", TimeSpan.FromMinutes(1))).Entry!;
        using var calls = new RedisCallSamples(standalone.MeterFactory);

        // A frozen replica confirms nothing: a claim that waited would throw 'unavailable' at the deadline.
        PosixSignal.Stop(replica.Pid);
        try
        {
            (await outbox.ClaimNextAsync("claimidle", "b", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Busy, "a holds the record");
            (await outbox.SettleAsync(held, "a")).Should().BeTrue();
            (await outbox.ClaimNextAsync("claimidle", "b", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Empty, "settled (PERSIST: the room lives)");
            (await outbox.ClaimNextAsync("claimnone", "b", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Empty, "no outbox at all");
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }

        calls.Count("wait").Should().Be(0, "a claim that hands out nothing needs no confirmation");
    }

    [Fact]
    public async Task AClaimIsNotQueuedBehindARoomWriteWaitingForItsConfirmation()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync();
        await replica.ReplicateAsync(master);
        // A long deadline: the lock's WAIT must still block when the claim is answered, on a loaded box too.
        var options = Confirming(1, storeTimeoutMilliseconds: 10_000);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var outbox = Outbox(standalone, options);
        var store = await CreateRoomAsync(standalone, options, "claimqueue");

        // A frozen replica confirms nothing: the lock's WAIT blocks the confirmed writes' connection until the deadline.
        PosixSignal.Stop(replica.Pid);
        try
        {
            var locking = LockAsync(store, "claimqueue");
            await Poll.UntilAsync(() => BlockedInWaitAsync(master), TimeSpan.FromSeconds(5), "the lock's WAIT blocks its connection");

            (await outbox.ClaimNextAsync("claimnone", "b", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Empty);
            (await BlockedInWaitAsync(master)).Should().BeTrue(
                "the claim was answered while the write's WAIT still held its connection: idle polls of every room on a shard without a replica must not queue behind it");

            (await FluentActions.Awaiting(() => locking).Should().ThrowAsync<RoomException>()).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            PosixSignal.Continue(replica.Pid);
        }
    }

    [Fact]
    public async Task ARecordThisReplicaCannotReadIsLeftForTheOthersWithoutAConfirmation()
    {
        // No replica at all: a confirmation would fail, after waiting out the deadline.
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(1);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var orders = RedisKeys.Orders("claimdamaged").ToString();
        await RespClient.ExecuteAsync(master.Port, ["XGROUP", "CREATE", orders, RedisOrderOutbox.Group, "0", "MKSTREAM"], TimeSpan.FromSeconds(5));
        await RespClient.ExecuteAsync(master.Port, ["XADD", orders, "*", "orderId", "claimdamaged:1", "type", "order.submitted", "version", "1", "at", At, "by", "api", "room", "{"], TimeSpan.FromSeconds(5));
        using var calls = new RedisCallSamples(standalone.MeterFactory);

        var claim = await Outbox(standalone, options).ClaimNextAsync("claimdamaged", Consumer, TimeSpan.FromSeconds(30));

        claim.Outcome.Should().Be(ClaimOutcome.LeftForOthers,
            "a record this replica cannot read never leaves it, so it needs no confirmation, and its claim counts as a real attempt to read it");
        calls.Count("wait").Should().Be(0);
    }

    /// <summary>
    /// The claim that dead-letters an unreadable record (its third) first waits for a replica to hold the record, as a
    /// readable record's claim does: on a Redis Cluster the letters go to another shard, whose WAIT says nothing of the
    /// record. Here, one master: without a replica that claim is unconfirmed and writes no letter; with a fresh replica,
    /// the claim after it lapsed writes them.
    /// </summary>
    [Fact]
    public async Task AnUnreadableRecordIsDeadLetteredOnlyOnceAReplicaHoldsIt()
    {
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(1, storeTimeoutMilliseconds: 500);
        options.Value.Webhooks.Endpoints.Add(new WebhookEndpoint { Url = "http://127.0.0.1:9/billing", Secret = "a-secret-of-enough-length" });
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var outbox = Outbox(standalone, options);
        var orders = RedisKeys.Orders("claimunread").ToString();
        await RespClient.ExecuteAsync(master.Port, ["XGROUP", "CREATE", orders, RedisOrderOutbox.Group, "0", "MKSTREAM"], TimeSpan.FromSeconds(5));
        await RespClient.ExecuteAsync(master.Port, ["XADD", orders, "*", "orderId", "claimunread:1", "type", "order.submitted", "version", "1", "at", At, "by", "api", "room", "{"], TimeSpan.FromSeconds(5));

        for (var claim = 1; claim < UnreadableOrderRecords.MostClaims; claim++)
        {
            (await outbox.ClaimNextAsync("claimunread", Consumer, TimeSpan.Zero)).Outcome.Should().Be(ClaimOutcome.LeftForOthers);
        }

        // A claim longer than the WAIT (~0.3 s here), so that the answer is the WAIT's, not the claim's own timeout; taken
        // once the second claim has been held that long (until then the record is busy).
        var third = OutboxClaim.Empty;
        await Poll.UntilAsync(
            async () => (third = await outbox.ClaimNextAsync("claimunread", Consumer, OneSecondClaim)).Outcome != ClaimOutcome.Busy,
            Delivery,
            "the third claim");
        third.Outcome.Should().Be(ClaimOutcome.Unconfirmed, "no replica holds the record");
        (await outbox.DeadLettersAsync(null, 10)).Should().BeEmpty("no letter before the record is held");

        await using var fresh = await RedisServerProcess.StartAsync();
        await fresh.ReplicateAsync(master);
        await Poll.UntilAsync(
            async () => (await outbox.ClaimNextAsync("claimunread", Consumer, OneSecondClaim)).Outcome == ClaimOutcome.Empty,
            Delivery,
            "a claim, once the unconfirmed one lapsed, that dead-letters and settles it");
        (await outbox.DeadLettersAsync(null, 10)).Should().ContainSingle().Which.OrderId.Should().Be("claimunread:1");
    }

    [Fact]
    public async Task WithoutConfirmedWritesTheClaimNeedsNoReplica()
    {
        await using var master = await RedisServerProcess.StartAsync();
        var options = Confirming(0);
        await using var standalone = await StandaloneRedisConnection.StartAsync(master.Endpoint, Consumer, options.Value);
        var store = await CreateRoomAsync(standalone, options, "claimsingle");
        var version = (await LockAsync(store, "claimsingle")).Version;
        using var calls = new RedisCallSamples(standalone.MeterFactory);

        var claim = await Outbox(standalone, options).ClaimNextAsync("claimsingle", Consumer, TimeSpan.FromSeconds(30));

        claim.Outcome.Should().Be(ClaimOutcome.Claimed);
        claim.Entry!.OrderId.Should().Be($"claimsingle:{version}");
        calls.Count("wait").Should().Be(0, "a single server confirms nothing");
    }

    /// <summary>The store's heartbeat is never started: it counts as hearing for three minutes.</summary>
    private static IOptions<RoomServerOptions> Confirming(int replicas) => Options.Create(new RoomServerOptions
    {
        Redis = new RedisOptions { ReplicasToAcknowledge = replicas },
        HeartbeatMilliseconds = 60_000,
    });

    /// <summary>As <see cref="Confirming(int)"/>, with a store deadline of its own (how long an unconfirmed write's WAIT blocks).</summary>
    private static IOptions<RoomServerOptions> Confirming(int replicas, int storeTimeoutMilliseconds)
    {
        var options = Confirming(replicas);
        options.Value.StoreTimeoutMilliseconds = storeTimeoutMilliseconds;
        return options;
    }

    private static RedisOrderOutbox Outbox(StandaloneRedisConnection standalone, IOptions<RoomServerOptions> options) => standalone.OrderOutbox(options);

    private static async Task<RedisRoomStore> CreateRoomAsync(StandaloneRedisConnection standalone, IOptions<RoomServerOptions> options, string roomId, OrderOutboxSignal? orders = null)
    {
        var store = standalone.RoomStore(options, orders);
        (await store.CreateAsync(new NewRoom(roomId, "epoch1", "table", [new MenuItem("pizza", "Pizza", 1200)], TimeSpan.FromHours(1), At), CancellationToken.None))
            .Should().BeTrue();
        return store;
    }

    private static Task<VersionAck> LockAsync(RedisRoomStore store, string roomId) =>
        store.SetStateAsync(new StateChange(roomId, RoomStates.Locked, "api", At), CancellationToken.None);

    /// <summary>
    /// The room, made while a replica confirmed it; then its only replica dies and the lock is answered
    /// <c>unavailable</c> — with its record on the master. That record's orderId.
    /// </summary>
    private static async Task<string> LockWithoutAReplicaAsync(
        RedisServerProcess master, StandaloneRedisConnection standalone, IOptions<RoomServerOptions> options, string roomId, OrderOutboxSignal? orders = null)
    {
        RedisRoomStore store;
        await using (var replica = await RedisServerProcess.StartAsync())
        {
            await replica.ReplicateAsync(master);
            store = await CreateRoomAsync(standalone, options, roomId, orders);
        }

        var locking = () => LockAsync(store, roomId);
        (await locking.Should().ThrowAsync<RoomException>("no replica confirmed the lock")).Which.Code.Should().Be(RoomErrorCodes.Unavailable);
        var stored = (object?[])(await RespClient.ExecuteAsync(master.Port, ["XRANGE", RedisKeys.Orders(roomId).ToString(), "-", "+"], TimeSpan.FromSeconds(5)))!;
        var fields = (object?[])((object?[])stored.Should().ContainSingle("the lock's record is on the master").Subject!)[1]!;
        return (string)fields[Array.IndexOf(fields, "orderId") + 1]!;
    }

    /// <summary>Claims until the unconfirmed claim has lapsed and the record is taken over (each try is 'busy' until then).</summary>
    private static Task<OutboxClaim> ClaimOnceItLapsesAsync(RedisOrderOutbox outbox, string roomId) =>
        Poll.ForAsync(
            () => outbox.ClaimNextAsync(roomId, Consumer, ShortClaim),
            claim => claim.Outcome == ClaimOutcome.Claimed,
            TimeSpan.FromSeconds(10),
            claim => $"the record claimed again once a replica confirms (last: {claim.Outcome})");

    /// <summary>Whether a client of <paramref name="server"/> is blocked in a WAIT (CLIENT LIST: cmd=wait, flag b).</summary>
    private static async Task<bool> BlockedInWaitAsync(RedisServerProcess server)
    {
        var clients = (string)(await RespClient.ExecuteAsync(server.Port, ["CLIENT", "LIST"], TimeSpan.FromSeconds(5)))!;
        return clients.Split('\n').Any(line => line.Contains(" cmd=wait", StringComparison.Ordinal) && line.Split(' ').Any(field => field.StartsWith("flags=", StringComparison.Ordinal) && field.Contains('b', StringComparison.Ordinal)));
    }

    /// <summary>How many records of the room's outbox are claimed, as <paramref name="server"/> holds it.</summary>
    private static async Task<long> PendingOnAsync(RedisServerProcess server, string roomId) =>
        (long)((object?[])(await RespClient.ExecuteAsync(server.Port, ["XPENDING", RedisKeys.Orders(roomId).ToString(), RedisOrderOutbox.Group], TimeSpan.FromSeconds(5)))!)[0]!;
}
