using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Orders;
using RoomShare.RoomServer.Rooms;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Redis;

/// <summary>
/// Scaled mode's order outbox (DESIGN.md §8). Each room's records live in its own stream
/// <c>rs:{id}:orders</c>, written by state.lua in the transition's own step — the room's hash tag keeps
/// that one atomic script on one Redis Cluster slot (a shared partition stream could not be). Replicas
/// find rooms with work through the index <c>rs:orders:rooms</c>, which the writer's replica fills right
/// after the transition; a periodic SCAN re-indexes any outbox whose writer died in between.
/// </summary>
public sealed class RedisOrderOutbox(
    RedisConnection redis,
    IOptions<RoomServerOptions> options,
    WebhookMetrics metrics,
    TimeProvider time,
    IOrderClaimPermit permit,
    ILogger<RedisOrderOutbox> logger) : IOrderOutbox
{
    /// <summary>The one consumer group of every room's outbox: one replica handles a record at a time.</summary>
    public const string Group = "webhooks";

    private const string BodyField = "body";
    private const string EndpointField = "endpoint";

    /// <summary>
    /// A field of the status hash beside the statuses: how many put-back copies of a record (retried dead letters) the
    /// stream holds. They share its statuses, so a trim keeps those until the last copy goes (outbox_settle.lua). The
    /// name has no space, so it is never read as a status ('ORDERID ENDPOINT').
    /// </summary>
    private const string CopiesPrefix = "copies:";

    /// <summary>
    /// A field of the status hash beside the statuses: every endpoint it holds a status of (outbox_status.lua), so a trim
    /// takes a record's statuses with it also for an endpoint removed from the settings since (outbox_settle.lua). No
    /// space in the name either.
    /// </summary>
    private const string EndpointsField = "endpoints";

    /// <summary>The sweep's SCAN page, and how many outboxes it finds before it indexes them (one ZADD NX).</summary>
    private const int SweepBatch = 500;

    /// <summary>
    /// How long a room remembers that a dead letter was put back (outbox_requeue.lua) or deleted (outbox_discard.lua):
    /// the dead letter is removed from its stream right after.
    /// </summary>
    private static readonly TimeSpan RequeueMemory = TimeSpan.FromDays(1);

    private IDatabase Database => redis.Connection.GetDatabase();

    /// <summary>How long a settled outbox is kept once its room is gone (the operator view): one default room TTL.</summary>
    private TimeSpan SettledOutboxAfterRoom => TimeSpan.FromMinutes(options.Value.DefaultRoomTtlMinutes);

    public async Task<IReadOnlyList<OutboxRoom>> RoomsWithWorkAsync(int count)
    {
        if (count <= 0)
        {
            return []; // ZRANGE 0 -1 would be the whole index
        }

        var rooms = await redis.CallAsync("outbox-rooms", () => Database.SortedSetRangeByRankWithScoresAsync(RedisKeys.OrderRooms, 0, count - 1));
        return rooms.Select(r => new OutboxRoom((string)r.Element!, (long)r.Score)).ToList();
    }

    public async Task<long> AnnounceAsync(string roomId)
    {
        var mark = time.GetUtcNow().ToUnixTimeMilliseconds();
        await redis.CallAsync("outbox-announce", () => Database.SortedSetAddAsync(RedisKeys.OrderRooms, roomId, mark));
        return mark;
    }

    public async Task<OutboxClaim> ClaimNextAsync(string roomId, string consumer, TimeSpan claimTimeout)
    {
        // An unreadable record is either left for the others (return) or, from its third claim on,
        // dead-lettered and settled (continue with the next): so this ends.
        while (true)
        {
            // On the shared connection, not the confirmed writes' one: most claims hand out nothing, and there they
            // would queue behind the WAITs of a shard that lost its replica (DESIGN.md §2).
            var result = await redis.EvaluateAsync(OutboxScripts.Claim, [RedisKeys.Orders(roomId), RedisKeys.OrderDeliveries(roomId), RedisKeys.Meta(roomId)],
                [Group, consumer, (long)claimTimeout.TotalMilliseconds, (long)SettledOutboxAfterRoom.TotalMilliseconds]);
            var reply = (RedisResult[])result!;
            switch ((string?)reply[0])
            {
                case "empty":
                    return OutboxClaim.Empty;
                case "busy":
                    return OutboxClaim.Busy(claimTimeout - TimeSpan.FromMilliseconds((long)reply[1]));
            }

            var id = (string)reply[1]!;
            var claimedAt = time.GetTimestamp();
            var stored = (RedisValue[])reply[2]!;
            var fields = ToFields(stored);
            var deliveries = await DeliveriesForAsync(roomId, fields, takenOver: (long)reply[3] > 1);
            OutboxEntry entry;
            try
            {
                entry = ReadEntry(roomId, id, fields, deliveries);
            }
            catch (Exception ex)
            {
                // Reading is parsing only (no I/O): whatever it throws, this record cannot be read here.
                var claims = (long)reply[3];
                if (claims < UnreadableOrderRecords.MostClaims)
                {
                    OrdersLog.UnreadableHere(logger, roomId, id, ex.Message, claims, UnreadableOrderRecords.MostClaims);
                    return OutboxClaim.LeftForOthers;
                }

                // Not before a Redis replica holds the record, as a readable one is not handed out before (below): on a Redis
                // Cluster its dead letters go to another shard, whose WAIT says nothing of this record, and a failover that
                // lost the record would give its version, and so its orderId, to the room's next order (DESIGN.md §8).
                if (await ConfirmClaimAsync(roomId, consumer, id, claimTimeout, claimedAt) is { } notYet)
                {
                    return notYet;
                }

                // The worker asked before this claim; these steps renew it and claim the room's next record, so each asks again.
                if (!await DeadLetterUnreadableAsync(roomId, id, consumer, stored, fields, deliveries, claims, ex) || !permit.MayClaim)
                {
                    return OutboxClaim.PermitLost;
                }

                continue;
            }

            // Confirmed only once read: a record left for the others (or dead-lettered) is not handed out, and every
            // claim it counts towards UnreadableOrderRecords.MostClaims is then a replica's real attempt to read it.
            return await ConfirmClaimAsync(roomId, consumer, id, claimTimeout, claimedAt) ?? new OutboxClaim(ClaimOutcome.Claimed, entry);
        }
    }

    /// <summary>
    /// Where writes are confirmed (DESIGN.md §2), a record leaves only once a Redis replica holds it (§8): state.lua wrote
    /// it with a transition that may have been answered 'unavailable', on the master alone, and a failover would then give
    /// the room's next transition that version — another order under the same orderId. The claim is renewed
    /// (outbox_keep.lua: a write, on the confirmed writes' connection) and WAITed for: a replica that has the renewal
    /// has every earlier write of that master, the record's included. Null when the record may go; otherwise what to
    /// answer instead — unconfirmed (it stays claimed here until the claim lapses), or busy if it was taken over
    /// meanwhile, or if the confirmation took the claim's whole timeout (another replica may have taken it over since).
    /// </summary>
    private async Task<OutboxClaim?> ConfirmClaimAsync(string roomId, string consumer, string entryId, TimeSpan claimTimeout, long claimedAt)
    {
        try
        {
            if (redis.Topology.ReplicasToAcknowledge == 0)
            {
                return null;
            }

            var kept = await redis.EvaluateConfirmedAsync(OutboxScripts.Keep, [RedisKeys.Orders(roomId)], [Group, consumer, entryId], wrote: reply => (long)reply == 1);
            return (long)kept == 1 && time.GetElapsedTime(claimedAt) < claimTimeout ? null : OutboxClaim.Busy(claimTimeout);
        }
        catch (RoomException ex) when (ex.Code == RoomErrorCodes.Unavailable)
        {
            return OutboxClaim.Unconfirmed(claimTimeout, ex.Message);
        }
    }

    /// <summary>
    /// The delivery statuses a claimed record's handling reads: its endpoints' (its one endpoint, or those
    /// configured), not the room's whole delivery hash — that grows by a field per record and endpoint, and a
    /// claim per record reading all of it made retrying a room's many dead letters quadratic. Except on a takeover
    /// (<paramref name="takenOver"/>) of a record for every endpoint: a holder configured otherwise may have left it pending
    /// for an endpoint no longer configured here, which the worker then dead-letters (outbox_statuses.lua, one script).
    /// </summary>
    private async Task<HashEntry[]> DeliveriesForAsync(string roomId, Dictionary<string, string> fields, bool takenOver)
    {
        var orderId = fields.GetValueOrDefault("orderId", "");
        if (takenOver && !fields.ContainsKey(EndpointField))
        {
            var flat = (RedisValue[])(await redis.EvaluateAsync(OutboxScripts.Statuses, [RedisKeys.OrderDeliveries(roomId)], [StatusField(orderId, "")]))!;
            return [.. Enumerable.Range(0, flat.Length / 2).Select(i => new HashEntry(flat[2 * i], flat[(2 * i) + 1]))];
        }

        var names = EndpointsFor(fields).Select(endpoint => (RedisValue)StatusField(orderId, endpoint)).ToArray();
        if (names.Length == 0)
        {
            return [];
        }

        var values = await redis.CallAsync("outbox-deliveries", () => Database.HashGetAsync(RedisKeys.OrderDeliveries(roomId), names));
        return [.. names.Zip(values).Where(pair => pair.Second.HasValue).Select(pair => new HashEntry(pair.First, pair.Second))];
    }

    /// <summary>Where a record goes: its one endpoint (a retried dead letter's), or every endpoint configured.</summary>
    private List<string> EndpointsFor(Dictionary<string, string> fields) =>
        fields.TryGetValue(EndpointField, out var only) ? [only] : options.Value.Webhooks.Endpoints.Select(e => e.Url).ToList();

    private static OutboxEntry ReadEntry(string roomId, string id, Dictionary<string, string> fields, HashEntry[] deliveries)
    {
        var orderId = fields["orderId"];
        if (!OrderRecordTypes.IsSendable(orderId))
        {
            throw new FormatException("its orderId is not visible ASCII, so no request can carry it");
        }

        return new OutboxEntry(
            roomId,
            id,
            orderId,
            fields["type"],
            long.Parse(fields["version"], CultureInfo.InvariantCulture),
            fields["at"],
            BodyOf(roomId, fields),
            fields.GetValueOrDefault(EndpointField),
            DeliveriesOf(orderId, deliveries));
    }

    /// <summary>
    /// A record no replica could read (<see cref="UnreadableOrderRecords"/>): a dead letter for each endpoint it
    /// was for and does not have yet, their statuses dead, then settled. The dead letters first: a crash before the settling
    /// repeats them (at least once), never loses the record. False when this process lost its ReplicaId's permit
    /// (<see cref="IOrderClaimPermit"/>) on the way: it stops, the record pending, and the id's holder finishes the job.
    /// </summary>
    private async Task<bool> DeadLetterUnreadableAsync(
        string roomId, string entryId, string consumer, RedisValue[] stored, Dictionary<string, string> fields, HashEntry[] deliveries, long claims, Exception why)
    {
        var orderId = fields.GetValueOrDefault("orderId", "");

        // Not those that have it already (DESIGN.md §8): delivered by a replica that could read it before it died (a takeover),
        // or dead-lettered — by such a replica, or by an earlier claim that stopped before settling. Except on a retried
        // dead letter's copy: its status may still say dead (the retry landed between a letter and its status), and the
        // retry is what it is for.
        var isCopy = fields.ContainsKey(EndpointField);
        var done = DeliveriesOf(orderId, deliveries)
            .Where(d => d.Value.Status == DeliveryStatuses.Delivered || (d.Value.Status == DeliveryStatuses.Dead && !isCopy))
            .Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var endpoints = EndpointsFor(fields);
        endpoints.RemoveAll(done.Contains);
        var reason = UnreadableOrderRecords.Reason(why);
        var body = UnreadableOrderRecords.StoredAsJson(stored);
        foreach (var endpoint in endpoints)
        {
            // As the worker's dead letters (DESIGN.md §8): each right after a renewal that landed, and its status written by
            // the holder alone. The loop may outlast a claim (several endpoints, a slow store): a replica that took the
            // record over meanwhile may have delivered it, and a letter here would be retried into a second delivery.
            // So may another process under this replica's id, whose claims pass for this one's: asked first, as the worker does.
            if (!permit.MayClaim)
            {
                return false;
            }

            if (!await KeepAsync(roomId, entryId, consumer))
            {
                OrdersLog.ClaimLost(logger, roomId, orderId);
                return true;
            }

            var letter = new DeadLetter("", orderId, roomId, fields.GetValueOrDefault("type", ""), UnreadableOrderRecords.VersionOf(fields),
                fields.GetValueOrDefault("at", ""), endpoint, 0, reason, time.Stamp(), body);
            await AddDeadLetterAsync([.. DeadLetterFields(letter), UnreadableOrderRecords.MarkerField, 1]);
            metrics.Unreadable();
            if (!await SetStatusAsync(roomId, entryId, consumer, orderId, endpoint, new EndpointDelivery(DeliveryStatuses.Dead, 0, reason)))
            {
                OrdersLog.ClaimLost(logger, roomId, orderId);
                return true;
            }
        }

        if (!Settled(await SettleEntryAsync(roomId, entryId, consumer)))
        {
            // Taken over meanwhile: the new holder dead-letters it again (at least once).
            OrdersLog.SettleLost(logger, roomId, orderId);
            return true;
        }

        OrdersLog.UnreadableRecord(logger, roomId, entryId, claims, why.Message, endpoints.Count, why);
        return true;
    }

    public Task<bool> KeepClaimAsync(OutboxEntry entry, string consumer) => KeepAsync(entry.RoomId, entry.EntryId, consumer);

    private async Task<bool> KeepAsync(string roomId, string entryId, string consumer) =>
        (long)await redis.EvaluateAsync(OutboxScripts.Keep, [RedisKeys.Orders(roomId)], [Group, consumer, entryId]) == 1;

    /// <summary>One script in the record's slot (outbox_status.lua): the holder check costs no round trip of its own.</summary>
    public Task<bool> SetDeliveryAsync(OutboxEntry entry, string consumer, string endpoint, EndpointDelivery delivery) =>
        SetStatusAsync(entry.RoomId, entry.EntryId, consumer, entry.OrderId, endpoint, delivery);

    private async Task<bool> SetStatusAsync(string roomId, string entryId, string consumer, string orderId, string endpoint, EndpointDelivery delivery) =>
        (long)await redis.EvaluateAsync(OutboxScripts.Status, [RedisKeys.Orders(roomId), RedisKeys.OrderDeliveries(roomId)],
            [Group, consumer, entryId, StatusField(orderId, endpoint), WriteDelivery(delivery), endpoint, EndpointsField]) == 1;

    public Task DeadLetterAsync(DeadLetter letter) => AddDeadLetterAsync(DeadLetterFields(letter));

    /// <summary>
    /// Confirmed like a room's write where writes are (DESIGN.md §2): the record is settled right after,
    /// so a dead letter that a failover could still lose would lose the delivery with it.
    /// </summary>
    private Task<RedisResult> AddDeadLetterAsync(RedisValue[] fields) =>
        redis.EvaluateConfirmedAsync(OutboxScripts.Dead, [RedisKeys.DeadLetters], fields, wrote: _ => true);

    private static RedisValue[] DeadLetterFields(DeadLetter letter) =>
    [
        "orderId", letter.OrderId,
        "roomId", letter.RoomId,
        "type", letter.Type,
        "version", letter.Version,
        "at", letter.At,
        EndpointField, letter.Endpoint,
        "attempts", letter.Attempts,
        "lastError", letter.LastError ?? "",
        "deadAt", letter.DeadAt,
        BodyField, letter.Body,
    ];

    public async Task<bool> SettleAsync(OutboxEntry entry, string consumer) => Settled(await SettleEntryAsync(entry.RoomId, entry.EntryId, consumer));

    private static bool Settled(RedisResult reply) => (string?)((RedisResult[])reply!)[0] != "lost";

    /// <summary>
    /// Settles and, past <see cref="WebhookOptions.SettledRecordsKept"/>, trims the oldest settled records with their
    /// statuses — the fields of the endpoints configured here and of every endpoint a status was written for.
    /// </summary>
    private Task<RedisResult> SettleEntryAsync(string roomId, string entryId, string consumer) =>
        redis.EvaluateAsync(OutboxScripts.Settle,
            [RedisKeys.Orders(roomId), RedisKeys.OrderDeliveries(roomId), RedisKeys.Meta(roomId)],
            [Group, entryId, options.Value.DefaultRoomTtlMinutes * 60L, consumer, options.Value.Webhooks.SettledRecordsKept, CopiesPrefix, EndpointsField,
                .. options.Value.Webhooks.Endpoints.Select(e => (RedisValue)e.Url)]);

    public Task ForgetAsync(OutboxRoom room) =>
        redis.EvaluateAsync(OutboxScripts.Forget, [RedisKeys.OrderRooms], [room.RoomId, room.Mark]);

    /// <summary>
    /// SCANs every primary for room outboxes and puts them in the index (NX: an indexed room keeps its
    /// mark); the workers drop the settled ones again. Cost: one SCAN of the keyspace per
    /// <c>SweepIntervalSeconds</c> per replica, one ZADD per page of outboxes found, and one claim call per
    /// retained outbox. The worker runs it beside its poll, so a long sweep delays no delivery.
    /// </summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SweepServersAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            throw RoomException.Unavailable("the outbox sweep could not scan Redis", ex);
        }
    }

    private async Task SweepServersAsync(CancellationToken cancellationToken)
    {
        // One ZADD NX per SweepBatch outboxes found, not one per outbox.
        var found = new List<SortedSetEntry>(SweepBatch);
        try
        {
            foreach (var server in redis.Connection.GetServers().Where(s => s.IsConnected && !s.IsReplica))
            {
                await foreach (var key in server.KeysAsync(pattern: RedisKeys.OrdersPattern, pageSize: SweepBatch).WithCancellation(cancellationToken))
                {
                    var name = (string)key!;
                    var roomId = name[(name.IndexOf('{', StringComparison.Ordinal) + 1)..name.LastIndexOf('}')];
                    if (RoomIds.IsValidRoomId(roomId))
                    {
                        found.Add(new SortedSetEntry(roomId, time.GetUtcNow().ToUnixTimeMilliseconds()));
                    }

                    if (found.Count == SweepBatch)
                    {
                        await IndexSweptAsync(found);
                    }
                }

                // Each server's finds are indexed before the next is scanned: one that fails loses none of them.
                await IndexSweptAsync(found);
            }
        }
        catch (Exception) when (found.Count > 0)
        {
            // What was found before the failure is still indexed (best effort: the failure is what is reported).
            try
            {
                await IndexSweptAsync(found);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or RoomException)
            {
                // The next sweep finds them again.
            }

            throw;
        }
    }

    private async Task IndexSweptAsync(List<SortedSetEntry> found)
    {
        if (found.Count == 0)
        {
            return;
        }

        SortedSetEntry[] entries = [.. found];
        found.Clear();
        await redis.CallAsync("outbox-sweep", () => Database.SortedSetAddAsync(RedisKeys.OrderRooms, entries, SortedSetWhen.NotExists));
    }

    public async Task<IReadOnlyList<StoredOrderRecord>> RecordsAsync(string roomId)
    {
        var reply = (RedisResult[])(await redis.EvaluateAsync(OutboxScripts.Records, [RedisKeys.Orders(roomId), RedisKeys.OrderDeliveries(roomId)], [Group]))!;
        var entries = ((RedisResult[])reply[0]!).Select(e => (RedisResult[])e!).Select(e => (Id: (string)e[0]!, Fields: ToFields((RedisValue[])e[1]!))).ToList();
        var flatStatuses = (RedisValue[])reply[1]!;
        var deliveries = Enumerable.Range(0, flatStatuses.Length / 2).Select(i => new HashEntry(flatStatuses[2 * i], flatStatuses[(2 * i) + 1])).ToArray();
        var deliveredUpTo = (string?)reply[2] ?? "";
        var pending = ((RedisValue[])reply[3]!).Select(id => (string)id!).ToHashSet(StringComparer.Ordinal);
        bool Unsettled(string id) => deliveredUpTo.Length == 0 || DeadLetterIds.Compare(id, deliveredUpTo) > 0 || pending.Contains(id);

        // A record's copy for every configured endpoint (not a retried dead letter's, which goes to one) still to be settled.
        var awaitingEveryEndpoint = entries.Where(e => !e.Fields.ContainsKey(EndpointField) && Unsettled(e.Id))
            .Select(e => e.Fields.GetValueOrDefault("orderId", "")).ToHashSet(StringComparer.Ordinal);

        // A record whose own entry was trimmed and that is kept only as put-back copies (each for one endpoint).
        var withOwnEntry = entries.Where(e => !e.Fields.ContainsKey(EndpointField)).Select(e => e.Fields.GetValueOrDefault("orderId", "")).ToHashSet(StringComparer.Ordinal);
        var copiesTo = entries.Where(e => e.Fields.ContainsKey(EndpointField)).GroupBy(e => e.Fields.GetValueOrDefault("orderId", ""), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(e => e.Fields[EndpointField]).Distinct(StringComparer.Ordinal)], StringComparer.Ordinal);

        var records = new List<StoredOrderRecord>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, fields) in entries)
        {
            // Read leniently: an unreadable record (dead-lettered) is listed with what can be read of it.
            var orderId = fields.GetValueOrDefault("orderId", "");
            if (!listed.Add(orderId))
            {
                continue; // a retried dead letter appends its record again: one record, one status per endpoint
            }

            records.Add(new StoredOrderRecord(
                orderId,
                fields.GetValueOrDefault("type", ""),
                UnreadableOrderRecords.VersionOf(fields),
                fields.GetValueOrDefault("at", ""),
                DeliveriesOf(orderId, deliveries),
                awaitingEveryEndpoint.Contains(orderId),
                withOwnEntry.Contains(orderId) ? null : copiesTo.GetValueOrDefault(orderId)));
        }

        return records;
    }

    public async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string? after, int limit)
    {
        if (after is not null && DeadLetterIds.Compare(after, DeadLetterIds.Last) >= 0)
        {
            return []; // nothing comes after the last id (and Redis refuses it as an exclusive start)
        }

        // "(" makes the start exclusive (Redis 6.2+).
        var start = after is null ? "-" : "(" + DeadLetterIds.AsStreamId(after);
        var entries = await redis.CallAsync("deadletters", () => Database.StreamRangeAsync(RedisKeys.DeadLetters, start, "+", limit));
        return entries.Select(e => ReadDeadLetter(e.Id!, ToFields(e.Values))).ToList();
    }

    public async Task<DeadLetter?> FindDeadLetterAsync(string deadLetterId)
    {
        deadLetterId = DeadLetterIds.AsStreamId(deadLetterId);
        return await StoredDeadLetterAsync(deadLetterId) is { } fields ? ReadDeadLetter(deadLetterId, fields) : null;
    }

    /// <summary>One entry exactly (a stream id, <see cref="DeadLetterIds.AsStreamId"/>): a bare milliseconds id would span every entry of that millisecond.</summary>
    private async Task<Dictionary<string, string>?> StoredDeadLetterAsync(string streamId)
    {
        var found = await redis.CallAsync("deadletter", () => Database.StreamRangeAsync(RedisKeys.DeadLetters, streamId, streamId));
        return found.Length == 0 ? null : ToFields(found[0].Values);
    }

    public async Task<string?> RetryAsync(string deadLetterId)
    {
        deadLetterId = DeadLetterIds.AsStreamId(deadLetterId);
        if (await StoredDeadLetterAsync(deadLetterId) is not { } fields)
        {
            return null;
        }

        var letter = ReadDeadLetter(deadLetterId, fields);
        var status = StatusField(letter.OrderId, letter.Endpoint);
        var pending = WriteDelivery(new EndpointDelivery(DeliveryStatuses.Pending, 0, null));
        RedisKey[] keys = [RedisKeys.Orders(letter.RoomId), RedisKeys.OrderDeliveries(letter.RoomId), RedisKeys.Requeued(letter.RoomId), RedisKeys.Discarded(letter.RoomId)];
        var remembered = (long)RequeueMemory.TotalSeconds;

        // Put back first (confirmed where writes are), then drop the dead letter: a crash or a failover in
        // between repeats a delivery (at least once), never loses one. A dead letter that another retry
        // has put back meanwhile is not put back twice ('again'), and that earlier put-back is confirmed
        // before it is dropped all the same: the earlier retry's own confirmation may have failed.
        // A letter an operator deleted meanwhile ('discarded': the delete came first) is not put back: this retry
        // finishes that delete's removal from the stream (its own may not have happened yet) and answers that there
        // is no such letter.
        var reply = fields.ContainsKey(UnreadableOrderRecords.MarkerField)
            ? await redis.EvaluateConfirmedAsync(OutboxScripts.Restore, keys,
                [Group, status, pending, deadLetterId, remembered, CopiesField(letter.OrderId), .. UnreadableOrderRecords.RestoredFields(letter.Body, EndpointField, letter.Endpoint)],
                wrote: _ => true)
            : await redis.EvaluateConfirmedAsync(OutboxScripts.Requeue, keys,
                [Group, letter.OrderId, letter.Type, letter.Version, letter.At, letter.Body, letter.Endpoint, status, pending, deadLetterId, remembered, CopiesField(letter.OrderId)],
                wrote: _ => true);

        await RemoveDeadLetterAsync(deadLetterId);
        if (ReplyOf(reply) == "discarded")
        {
            return null;
        }

        await AnnounceRetriedAsync(letter.RoomId, deadLetterId);
        return letter.RoomId;
    }

    /// <summary>
    /// Best effort: the retry has taken effect (put back, and gone from the list), and the index only lets the workers find
    /// the room sooner. Answered as failed, it sent the operator to repeat a retry that then found no such letter (and a
    /// retry-all lost the list of those it had put back); unindexed, the room is found by the retrying replica's own worker
    /// (woken by the API), or by a sweep (<c>SweepIntervalSeconds</c>).
    /// </summary>
    private async Task AnnounceRetriedAsync(string roomId, string deadLetterId)
    {
        try
        {
            await AnnounceAsync(roomId);
        }
        catch (RoomException ex)
        {
            // The store's failures (a timeout, Redis away) all arrive so (RedisConnection.CallAsync).
            OrdersLog.RetriedNotIndexed(logger, deadLetterId, roomId, ex.Message);
        }
    }

    /// <summary>
    /// The room's mark decides between a delete and a retry of the letter at once (outbox_discard.lua), confirmed where
    /// writes are, before the letter leaves the stream: a failover that lost the removal brings the letter back
    /// listed, but no retry puts it back (it finds the mark), and a delete of it again removes it.
    /// </summary>
    public async Task<bool> DeleteDeadLetterAsync(string deadLetterId)
    {
        deadLetterId = DeadLetterIds.AsStreamId(deadLetterId);
        if (await StoredDeadLetterAsync(deadLetterId) is not { } fields)
        {
            return false;
        }

        var roomId = ReadDeadLetter(deadLetterId, fields).RoomId;
        var reply = await redis.EvaluateConfirmedAsync(OutboxScripts.Discard, [RedisKeys.Requeued(roomId), RedisKeys.Discarded(roomId)],
            [deadLetterId, (long)RequeueMemory.TotalSeconds], wrote: _ => true);

        // 'retried': a retry put it back first (confirmed by now); the letter may still be listed if that retry stopped
        // before removing it, so it is removed here too — the delete lost all the same.
        await RemoveDeadLetterAsync(deadLetterId);
        return ReplyOf(reply) != "retried";
    }

    private Task<long> RemoveDeadLetterAsync(string streamId) =>
        redis.CallAsync("deadletter-remove", () => Database.StreamDeleteAsync(RedisKeys.DeadLetters, [streamId]));

    private static string? ReplyOf(RedisResult reply) => (string?)((RedisResult[])reply!)[0];

    private static string StatusField(string orderId, string endpoint) => orderId + " " + endpoint;

    private static string CopiesField(string orderId) => CopiesPrefix + orderId;

    private static Dictionary<string, string> ToFields(RedisValue[] flat)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            fields[(string)flat[i]!] = (string)flat[i + 1]!;
        }

        return fields;
    }

    /// <summary>A field stored twice (a damaged entry) keeps its last value, as on the claim's path.</summary>
    private static Dictionary<string, string> ToFields(NameValueEntry[] values)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            fields[(string)value.Name!] = (string)value.Value!;
        }

        return fields;
    }

    private static DeadLetter ReadDeadLetter(string id, Dictionary<string, string> f) => new(
        id,
        f["orderId"],
        f["roomId"],
        f["type"],
        long.Parse(f["version"], CultureInfo.InvariantCulture),
        f["at"],
        f[EndpointField],
        int.Parse(f["attempts"], CultureInfo.InvariantCulture),
        f["lastError"] is { Length: > 0 } error ? error : null,
        f["deadAt"],
        f[BodyField]);

    /// <summary>
    /// The body of a record: as stored (a retried dead letter), or built from state.lua's <c>room</c>
    /// field — the same function of the same stored fields on every attempt, so the same bytes.
    /// </summary>
    private static string BodyOf(string roomId, Dictionary<string, string> fields)
    {
        if (fields.TryGetValue(BodyField, out var body))
        {
            return body;
        }

        using var room = JsonDocument.Parse(fields["room"]);
        var root = room.RootElement;
        var menu = root.GetProperty("menu").Deserialize<List<MenuItem>>(RoomChannelProtocol.Json) ?? [];
        var members = Pairs(root.GetProperty("members")).Select(p => (p.Key, p.Value));
        var choices = Pairs(root.GetProperty("choices")).Select(p =>
        {
            // The field is memberId:menuId; neither id may contain ':' (RoomIds).
            var separator = p.Key.LastIndexOf(':');
            return (p.Key[..separator], p.Key[(separator + 1)..], int.Parse(p.Value, CultureInfo.InvariantCulture));
        });
        var version = long.Parse(fields["version"], CultureInfo.InvariantCulture);
        var snapshot = SnapshotAssembler.Build(
            roomId,
            root.GetProperty("name").GetString()!,
            new RoomPosition(root.GetProperty("epoch").GetString()!, version),
            root.GetProperty("state").GetString()!,
            menu,
            members,
            new HashSet<string>(StringComparer.Ordinal),
            choices,
            maxQuantity: 0, // not part of an order record (OrderRecord.From leaves it out)
            presenceSeq: 0);
        return OrderRecord.From(fields["type"], snapshot, fields["by"], fields["at"]).ToJson();
    }

    private static IEnumerable<KeyValuePair<string, string>> Pairs(JsonElement flat)
    {
        var items = flat.EnumerateArray().Select(e => e.GetString()!).ToList();
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            yield return new KeyValuePair<string, string>(items[i], items[i + 1]);
        }
    }

    /// <summary>The record's status per endpoint; one that cannot be read counts as pending (at worst one more delivery).</summary>
    private static Dictionary<string, EndpointDelivery> DeliveriesOf(string orderId, HashEntry[] deliveries)
    {
        var prefix = orderId + " ";
        return deliveries
            .Where(d => ((string)d.Name!).StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(d => ((string)d.Name!)[prefix.Length..], d => ReadDelivery(d.Value), StringComparer.Ordinal);
    }

    private static EndpointDelivery ReadDelivery(RedisValue json)
    {
        try
        {
            return JsonSerializer.Deserialize<EndpointDelivery>((string)json!, RoomChannelProtocol.Json) ?? PendingDelivery;
        }
        catch (JsonException)
        {
            return PendingDelivery;
        }
    }

    private static readonly EndpointDelivery PendingDelivery = new(DeliveryStatuses.Pending, 0, null);

    private static string WriteDelivery(EndpointDelivery delivery) => JsonSerializer.Serialize(delivery, RoomChannelProtocol.Json);
}
