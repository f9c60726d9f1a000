using System.Globalization;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

using static RoomShare.RoomServer.Tests.Orders.RedisDeadLetters;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>
/// outbox_settle.lua's trim (DESIGN.md §8, <c>RoomServer__Webhooks__SettledRecordsKept</c>) run directly against a real
/// redis-server, on streams set up by hand: which entries and status fields each settle leaves, with records pending and
/// unread beside the settled ones, the group's <c>lag</c> unknown, a bound lowered by more than one settle trims, and a
/// put-back copy of a trimmed record; and when a drained outbox expires. The worker never makes most of these states at will
/// (nothing settles while a record is pending), so <see cref="SettledRecordsKeptTests"/> cannot show them.
/// </summary>
[Trait("Suite", "Orders")]
public sealed class OutboxSettleTrimTests
{
    private const string Room = "r1";
    private const string A = "http://127.0.0.1:9/a";
    private const string B = "http://127.0.0.1:9/b";
    private const string Delivered = "{\"status\":\"delivered\",\"attempts\":1}";
    private const string Pending = "{\"status\":\"pending\",\"attempts\":0}";

    private static readonly RedisKey Orders = RedisKeys.Orders(Room);
    private static readonly RedisKey Deliveries = RedisKeys.OrderDeliveries(Room);

    [Fact]
    public async Task ASettleTrimsExactlyTheOldestSettledPastTheBoundAndKeepsThePendingAndUnreadRecords()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(10);
        await outbox.DeliverAsync(6, kept: 100);
        (await outbox.VersionsAsync()).Should().Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "nothing is past a bound of 100");
        await outbox.ReadAsync("c1");
        await outbox.Db.HashSetAsync(Deliveries, [new(Field(7, A), Delivered), new(Field(7, B), Pending)]);

        // A settle of an entry settled before (XACK changes nothing) while version 7 is pending and 8–10 are unread:
        // 6 settled, bound 2, so exactly the 4 oldest go — not the pending one nor those behind it.
        (await outbox.SettleAsync(outbox.Ids[5], "c1", kept: 2)).Should().Be("more");

        (await outbox.VersionsAsync()).Should().Equal([5, 6, 7, 8, 9, 10]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo([.. Fields(5, 6), Field(7, A), Field(7, B)]); // the trimmed ones' went with them
        (await outbox.HolderAsync()).Should().Be((outbox.Ids[6], "c1"), "the pending record is still pending");
    }

    [Fact]
    public async Task APendingRecordIsNeverTrimmedEvenWithSettledRecordsReadAfterIt()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(5);
        await outbox.DeliverAsync(2, kept: 100);

        // Out of the worker's one-at-a-time order (a group set back by hand, say): 3 stays pending while 4 and 5 settle.
        var pending = await outbox.ReadAsync("c1");
        await outbox.DeliverAsync(2, kept: 100);

        // 4 settled, bound 1: the count says 3 go, but none past the pending one.
        (await outbox.SettleAsync(outbox.Ids[4], "c1", kept: 1)).Should().Be("more");
        (await outbox.VersionsAsync()).Should().Equal([3, 4, 5]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(4, 5));
        (await outbox.HolderAsync()).Should().Be((pending, "c1"));
    }

    [Fact]
    public async Task ALateSettleByAConsumerWhoseClaimWasTakenOverChangesNothing()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(6);
        await outbox.DeliverAsync(4, kept: 100);

        // c2 read version 5; its claim lapsed and c1 took the record over (outbox_claim.lua's XAUTOCLAIM, made certain).
        var taken = await outbox.ReadAsync("c2");
        await outbox.Db.StreamClaimAsync(Orders, RedisOrderOutbox.Group, "c1", 0, [taken]);

        (await outbox.SettleAsync(taken, "c2", kept: 1)).Should().Be("lost");
        (await outbox.VersionsAsync()).Should().Equal([1, 2, 3, 4, 5, 6], "a refused settle trims nothing, though 4 settled records are past a bound of 1");
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(1, 2, 3, 4));
        (await outbox.HolderAsync()).Should().Be((taken, "c1"), "nor acknowledges the new holder's record");

        // The holder's settle, with the same bound, does trim: the refusal above is what kept them.
        (await outbox.SettleAsync(taken, "c1", kept: 1)).Should().Be("more");
        (await outbox.VersionsAsync()).Should().Equal([5, 6]);
        (await outbox.FieldsAsync()).Should().BeEmpty("version 5's statuses were never written here");
    }

    [Fact]
    public async Task WithTheLagUnknownASettleTrimsNothingWhileRecordsAreUnreadAndTrimsToTheBoundOnceAllAreRead()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(8);
        await outbox.DeliverAsync(4, kept: 100);

        // SETID without ENTRIESREAD: the group no longer knows how many entries it has read, so XINFO GROUPS has no lag.
        await outbox.Db.ExecuteAsync("XGROUP", "SETID", Orders, RedisOrderOutbox.Group, outbox.Ids[3]);
        (await outbox.LagAsync()).IsNull.Should().BeTrue("lag is nil once the group's read counter is unknown (Redis 7.0)");

        // Settled past a bound of 1 (4 again, then 5–7), but with the lag unknown the settled count is not known while
        // records are unread: nothing is trimmed.
        (await outbox.SettleAsync(outbox.Ids[3], "c1", kept: 1)).Should().Be("more");
        await outbox.DeliverAsync(3, kept: 1);
        (await outbox.LagAsync()).IsNull.Should().BeTrue("reading entries before the last leaves the counter unknown");
        (await outbox.VersionsAsync()).Should().Equal([1, 2, 3, 4, 5, 6, 7, 8]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(1, 2, 3, 4, 5, 6, 7));

        // Reading the last entry makes the counter exact again (lag 0, Redis 7.0): the next settle trims down to the bound.
        await outbox.ReadAsync("c1");
        var lag = await outbox.LagAsync();
        lag.IsNull.Should().BeFalse();
        ((long)lag).Should().Be(0);
        (await outbox.SettleAsync(outbox.Ids[6], "c1", kept: 1)).Should().Be("more");
        (await outbox.VersionsAsync()).Should().Equal([7, 8], "version 8 is pending");
        await outbox.Db.HashSetAsync(Deliveries, [new(Field(8, A), Delivered), new(Field(8, B), Delivered)]);
        (await outbox.SettleAsync(outbox.Ids[7], "c1", kept: 1)).Should().Be("settled");
        (await outbox.VersionsAsync()).Should().Equal([8]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(8));
    }

    [Fact]
    public async Task WithTheLagUnknownAndNothingUnreadASettleTrimsToTheBound()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(6);
        await outbox.DeliverAsync(4, kept: 100);

        // The unread 5 and 6 deleted by hand: a deleted entry past the group's position makes its lag unknown (Redis 7.0),
        // yet nothing is unread — the one case where the script can count the settled entries without the lag.
        await outbox.Db.StreamDeleteAsync(Orders, [outbox.Ids[4], outbox.Ids[5]]);
        (await outbox.LagAsync()).IsNull.Should().BeTrue();

        (await outbox.SettleAsync(outbox.Ids[3], "c1", kept: 1)).Should().Be("settled");
        (await outbox.VersionsAsync()).Should().Equal([4]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(4));
    }

    [Fact]
    public async Task ABoundLoweredByMoreThanAHundredIsReachedAHundredEntriesASettle()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(250);
        await outbox.DeliverAsync(250, kept: 1000);

        // The bound lowered to 1 (replicas restarted): each settle trims at most 100, the oldest, with their statuses.
        await outbox.SettleAsync(outbox.Ids[^1], "c1", kept: 1);
        (await outbox.VersionsAsync()).Should().Equal(Enumerable.Range(101, 150));
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields([.. Enumerable.Range(101, 150)]));

        await outbox.AddAsync(1);
        await outbox.DeliverAsync(1, kept: 1);
        (await outbox.VersionsAsync()).Should().Equal(Enumerable.Range(201, 51));
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields([.. Enumerable.Range(201, 51)]));

        await outbox.AddAsync(1);
        await outbox.DeliverAsync(1, kept: 1);
        (await outbox.VersionsAsync()).Should().Equal([252]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(252));
    }

    [Fact]
    public async Task ATrimmedRecordsStatusesStayWhileItsPutBackCopyIsUnreadAndGoWithTheCopy()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(2);
        await outbox.DeliverAsync(2, kept: 100);

        // Version 1 died at endpoint A: its dead letter retried, through the real script, appends a copy for A alone.
        RedisKey[] keys = [Orders, Deliveries, RedisKeys.Requeued(Room), RedisKeys.Discarded(Room)];
        Reply(await OutboxScripts.Requeue.EvaluateAsync(outbox.Db, keys,
            [RedisOrderOutbox.Group, OrderId(1), "order.submitted", 1, "2026-12-01T00:00:00Z", "{}", A, Field(1, A), Pending, "1764547200000-0", 86400, "copies:" + OrderId(1)]))
            .Should().Be("ok");

        // Two settled, bound 1: the record goes, the unread copy keeps the statuses it shares (B's too, which it lists).
        await outbox.SettleAsync(outbox.Ids[1], "c1", kept: 1);
        (await outbox.VersionsAsync()).Should().Equal([2, 1]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo([.. Fields(1, 2), "copies:" + OrderId(1)]);
        ((string?)await outbox.Db.HashGetAsync(Deliveries, Field(1, A))).Should().Be(Pending, "the copy's own status, not trimmed");

        // The copy delivered and settled, then trimmed by the next record's settle: the last of the record takes them all.
        await outbox.DeliverAsync(1, kept: 1);
        (await outbox.VersionsAsync()).Should().Equal([1], "version 2 was the oldest settled");
        (await outbox.FieldsAsync()).Should().BeEquivalentTo([.. Fields(1), "copies:" + OrderId(1)]);
        await outbox.AddAsync(1);
        await outbox.DeliverAsync(1, kept: 1);
        (await outbox.VersionsAsync()).Should().Equal([3]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo(Fields(3), "the copy's trim removed the shared statuses and its counter");
    }

    [Fact]
    public async Task ATrimmedRecordTakesTheStatusOfAnEndpointRemovedFromTheSettingsSince()
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(2);

        // Version 1 delivered to A and B through outbox_status.lua, as the worker writes statuses, and settled.
        var first = await outbox.ReadAsync("c1");
        (await outbox.WriteStatusAsync(first, "c1", 1, A)).Should().Be(1);
        (await outbox.WriteStatusAsync(first, "c1", 1, B)).Should().Be(1);
        (await outbox.SettleAsync(first, "c1", kept: 100)).Should().Be("more", "version 2 is unread");

        // B is removed from the settings; version 2 goes to A alone, and its settle (bound 1) trims version 1.
        var second = await outbox.ReadAsync("c1");
        (await outbox.WriteStatusAsync(second, "c1", 2, A)).Should().Be(1);
        (await outbox.SettleAsync(second, "c1", kept: 1, configured: [A])).Should().Be("settled");

        (await outbox.VersionsAsync()).Should().Equal([2]);
        (await outbox.FieldsAsync()).Should().BeEquivalentTo([Field(2, A), EndpointsField], "version 1's status at B went with it, though B is no longer configured");
        ((string?)await outbox.Db.HashGetAsync(Deliveries, EndpointsField)).Should().Be($"[\"{Escaped(A)}\",\"{Escaped(B)}\"]", "each endpoint listed once");
    }

    [Theory]
    [InlineData("not a list")]
    [InlineData("[null,true,{}]")]
    public async Task AnEndpointListWrittenByHandIsReadForItsStringsAloneAndStartedAgain(string list)
    {
        await using var outbox = await Outbox.StartAsync();
        await outbox.AddAsync(2);
        await outbox.Db.HashSetAsync(Deliveries, EndpointsField, list);
        await outbox.DeliverAsync(1, kept: 100);

        // A trim finds no endpoint in it: the configured endpoints' statuses still go, and the settle succeeds.
        (await outbox.SettleAsync(await outbox.ReadAsync("c1"), "c1", kept: 1)).Should().Be("settled");
        (await outbox.FieldsAsync()).Should().BeEquivalentTo([EndpointsField]);

        // The next status written starts the list again.
        await outbox.AddAsync(1);
        var third = await outbox.ReadAsync("c1");
        (await outbox.WriteStatusAsync(third, "c1", 3, B)).Should().Be(1);
        ((string?)await outbox.Db.HashGetAsync(Deliveries, EndpointsField)).Should().Be($"[\"{Escaped(B)}\"]");
    }

    [Fact]
    public async Task ADrainedOutboxExpiresWithItsRoomToTheMillisecondAndAfterTheKeepTimeOnceTheRoomIsGone()
    {
        await using var outbox = await Outbox.StartAsync();
        var meta = RedisKeys.Meta(Room);
        await outbox.Db.HashSetAsync(meta, "state", "locked");
        // Two hours and 400 ms left: TTL, in whole seconds, would give the outbox 7 200 s, 400 ms less than its room.
        await outbox.Db.ExecuteAsync("PEXPIRE", meta, 7_200_400);
        await outbox.AddAsync(2);

        await outbox.DeliverAsync(1, kept: 100);
        (await outbox.ExpireTimeAsync(Orders)).Should().Be(-1, "a record is still unread: the outbox does not expire");

        await outbox.DeliverAsync(1, kept: 100);
        var room = await outbox.ExpireTimeAsync(meta);
        room.Should().BePositive();
        (await outbox.ExpireTimeAsync(Orders)).Should().Be(room, "a drained outbox expires with its room, to the millisecond");
        (await outbox.ExpireTimeAsync(Deliveries)).Should().Be(room);

        // The room gone (expired or deleted): the next drained settle keeps the outbox ARGV 3's hour from then.
        // A new record takes the expiry away first, as state.lua's PERSIST does.
        await outbox.Db.KeyDeleteAsync(meta);
        await outbox.AddAsync(1);
        await outbox.Db.KeyPersistAsync(Orders);
        await outbox.Db.KeyPersistAsync(Deliveries);
        (await outbox.ExpireTimeAsync(Orders)).Should().Be(-1);
        var before = await outbox.NowMsAsync();
        await outbox.DeliverAsync(1, kept: 100);
        var after = await outbox.NowMsAsync();
        (await outbox.ExpireTimeAsync(Orders)).Should().BeInRange(before + 3_600_000, after + 3_600_000);
        (await outbox.ExpireTimeAsync(Deliveries)).Should().Be(await outbox.ExpireTimeAsync(Orders));
    }

    /// <summary>RedisOrderOutbox.EndpointsField.</summary>
    private const string EndpointsField = "endpoints";

    /// <summary>An endpoint as Redis's cjson writes it: it escapes every slash.</summary>
    private static string Escaped(string endpoint) => endpoint.Replace("/", "\\/", StringComparison.Ordinal);

    private static string OrderId(long version) => Room + ":" + version.ToString(CultureInfo.InvariantCulture);

    /// <summary>A record's status field (RedisOrderOutbox.StatusField).</summary>
    private static string Field(long version, string endpoint) => OrderId(version) + " " + endpoint;

    /// <summary>The status fields of both endpoints of each version.</summary>
    private static string[] Fields(params int[] versions) => [.. versions.SelectMany(v => new[] { Field(v, A), Field(v, B) })];

    /// <summary>A room's outbox stream and status hash on a private redis-server, written as state.lua and the worker do.</summary>
    private sealed class Outbox : IAsyncDisposable
    {
        private readonly RedisServerProcess _redis;
        private readonly ConnectionMultiplexer _connection;

        private Outbox(RedisServerProcess redis, ConnectionMultiplexer connection)
        {
            _redis = redis;
            _connection = connection;
        }

        public IDatabase Db => _connection.GetDatabase();

        /// <summary>The records' entry ids (not a put-back copy's): <c>Ids[v - 1]</c> is version v's.</summary>
        public List<string> Ids { get; } = [];

        public static async Task<Outbox> StartAsync()
        {
            var redis = await RedisServerProcess.StartAsync();
            try
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
                var outbox = new Outbox(redis, connection);
                await outbox.Db.StreamCreateConsumerGroupAsync(Orders, RedisOrderOutbox.Group, "0", createStream: true);
                return outbox;
            }
            catch
            {
                await redis.DisposeAsync();
                throw;
            }
        }

        /// <summary>The next <paramref name="count"/> versions' records, with state.lua's fields.</summary>
        public async Task AddAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var version = Ids.Count + 1;
                var id = await Db.StreamAddAsync(Orders,
                [
                    new("orderId", OrderId(version)), new("type", "order.submitted"), new("version", version),
                    new("at", "2026-12-01T00:00:00Z"), new("by", "m1"), new("room", "{}"),
                ]);
                Ids.Add((string)id!);
            }
        }

        /// <summary>The next unread entry, read by <paramref name="consumer"/> (as outbox_claim.lua's XREADGROUP COUNT 1).</summary>
        public async Task<string> ReadAsync(string consumer)
        {
            var read = await Db.StreamReadGroupAsync(Orders, RedisOrderOutbox.Group, consumer, StreamPosition.NewMessages, count: 1);
            return (string)read.Should().ContainSingle().Subject.Id!;
        }

        /// <summary>As the worker: <paramref name="count"/> entries read, delivered to both endpoints (a copy: to its own), settled.</summary>
        public async Task DeliverAsync(int count, int kept)
        {
            for (var i = 0; i < count; i++)
            {
                var id = await ReadAsync("c1");
                var entry = (await Db.StreamRangeAsync(Orders, id, id)).Single();
                var orderId = (string)entry["orderId"]!;
                var endpoints = entry["endpoint"] is { IsNull: false } only ? new[] { (string)only! } : new[] { A, B };
                await Db.HashSetAsync(Deliveries, [.. endpoints.Select(e => new HashEntry(orderId + " " + e, Delivered))]);
                (await SettleAsync(id, "c1", kept)).Should().NotBe("lost");
            }
        }

        /// <summary>outbox_settle.lua with the KEYS and ARGV RedisOrderOutbox.SettleEntryAsync passes (A and B configured, unless told).</summary>
        public async Task<string?> SettleAsync(string entryId, string consumer, int kept, string[]? configured = null) =>
            Reply(await OutboxScripts.Settle.EvaluateAsync(Db, [Orders, Deliveries, RedisKeys.Meta(Room)],
                [RedisOrderOutbox.Group, entryId, 3600, consumer, kept, "copies:", EndpointsField, .. (configured ?? [A, B]).Select(e => (RedisValue)e)]));

        /// <summary>outbox_status.lua with the KEYS and ARGV RedisOrderOutbox.SetDeliveryAsync passes: version's status at endpoint, delivered.</summary>
        public async Task<long> WriteStatusAsync(string entryId, string consumer, long version, string endpoint) =>
            (long)await OutboxScripts.Status.EvaluateAsync(Db, [Orders, Deliveries],
                [RedisOrderOutbox.Group, consumer, entryId, Field(version, endpoint), Delivered, endpoint, EndpointsField]);

        /// <summary>When the key expires, in Unix ms (<c>PEXPIRETIME</c>): -1 without an expiry, -2 without the key.</summary>
        public async Task<long> ExpireTimeAsync(RedisKey key) => (long)await Db.ExecuteAsync("PEXPIRETIME", key);

        /// <summary>The server's clock (<c>TIME</c>), in Unix ms.</summary>
        public async Task<long> NowMsAsync()
        {
            var time = (RedisResult[])(await Db.ExecuteAsync("TIME"))!;
            return ((long)time[0] * 1000) + ((long)time[1] / 1000);
        }

        /// <summary>The versions of the stream's entries, oldest first.</summary>
        public async Task<List<int>> VersionsAsync() =>
            [.. (await Db.StreamRangeAsync(Orders, "-", "+")).Select(e => int.Parse((string)e["version"]!, CultureInfo.InvariantCulture))];

        public async Task<List<string>> FieldsAsync() => [.. (await Db.HashKeysAsync(Deliveries)).Select(f => (string)f!)];

        /// <summary>The one pending entry and its holder.</summary>
        public async Task<(string?, string?)> HolderAsync()
        {
            var pending = await Db.StreamPendingMessagesAsync(Orders, RedisOrderOutbox.Group, 10, RedisValue.Null);
            return pending.Length == 1 ? ((string?)pending[0].MessageId, (string?)pending[0].ConsumerName) : (null, null);
        }

        /// <summary>The group's <c>lag</c> as XINFO GROUPS reports it (nil when Redis cannot tell).</summary>
        public async Task<RedisResult> LagAsync()
        {
            var group = (RedisResult[])((RedisResult[])(await Db.ExecuteAsync("XINFO", "GROUPS", Orders))!).Single()!;
            for (var i = 0; i + 1 < group.Length; i += 2)
            {
                if ((string?)group[i] == "lag")
                {
                    return group[i + 1];
                }
            }

            throw new InvalidOperationException("XINFO GROUPS reported no lag (Redis 7 does)");
        }

        public async ValueTask DisposeAsync()
        {
            await _connection.DisposeAsync();
            await _redis.DisposeAsync();
        }
    }
}
