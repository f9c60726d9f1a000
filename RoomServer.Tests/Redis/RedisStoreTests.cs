using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>What only the Redis store has to prove: keys, TTLs, the audit trail and the replay it serves, read from Redis itself.</summary>
public sealed class RedisStoreTests(RedisContractServer server) : IClassFixture<RedisContractServer>
{
    private static readonly string[] KeyNames = ["meta", "choices", "members", "presence", "ops", "oplog", "audit"];

    [Fact]
    public async Task EveryKeyOfARoomCarriesTheRoomsTtlAfterAChange()
    {
        var room = await server.CreateRoomAsync(ttlMinutes: 2);
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 1, "ttl-op");

        foreach (var name in KeyNames)
        {
            var ttl = long.Parse((await server.Redis.ExecuteAsync("TTL", $"rs:{{{room.Id}}}:{name}"))!, CultureInfo.InvariantCulture);
            ttl.Should().BeInRange(100, RoomLifeSeconds(120), $"rs:{{{room.Id}}}:{name} expires with the room");
        }
    }

    [Fact]
    public async Task AChoiceKeyRecreatedWithinTheSlackOfTheLastRefreshStillExpiresWithTheRoom()
    {
        // choice.lua skips the eight-key refresh while more than the room's TTL is left (a refresh gives
        // the TTL and a slack); a key the skipping write may have created, here the choices hash emptied
        // and re-created, gets the expiry the room's keys share.
        var room = await server.CreateRoomAsync(ttlMinutes: 100);
        const long ttlMs = 6_000_000;
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 1, "a");
        await ann.Client.SetChoiceAsync(room, "pizza", 0, "b");
        (await server.Redis.ExecuteAsync("EXISTS", $"rs:{{{room.Id}}}:choices")).Should().Be("0", "the last choice went, and the hash with it");

        // As if refreshed 30 s ago (the slack is 60 s here): the write below is one the skip applies to.
        await SetPttlOfEveryKeyAsync(room, ttlMs + 30_000);
        await ann.Client.SetChoiceAsync(room, "pasta", 2, "c");

        (await PttlAsync($"rs:{{{room.Id}}}:meta")).Should().BeLessThanOrEqualTo(ttlMs + 30_000, "the write skipped the refresh");
        // The script gives the key what PTTL read of the room's life; before Redis 7.2 each command in a script reads
        // the clock, so a millisecond may pass between the two: the key then expires 1 ms after the room, never before.
        var roomEnds = await ExpireTimeAsync($"rs:{{{room.Id}}}:meta");
        (await ExpireTimeAsync($"rs:{{{room.Id}}}:choices")).Should().BeInRange(roomEnds, roomEnds + 1, "a re-created choices hash expires with the room");
    }

    [Fact]
    public async Task ABusyRoomsKeysAreRefreshedOncePerSlackAndAlwaysKeepTheRoomsTtl()
    {
        // A refresh gives the room's keys its TTL and a slack (1 % of it, 1 to 60 s): a write finding more
        // than the TTL left skips the refresh, and one finding less refreshes every key.
        var room = await server.CreateRoomAsync(ttlMinutes: 100);
        const long ttlMs = 6_000_000, lifeMs = 6_060_000;
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 1, "slack-1");
        foreach (var name in KeyNames)
        {
            (await PttlAsync($"rs:{{{room.Id}}}:{name}")).Should().BeInRange(ttlMs, lifeMs, $"rs:{{{room.Id}}}:{name} got the TTL and the slack");
        }

        // As if refreshed 30 s ago: more than the TTL is left, so the next write leaves the keys alone.
        await SetPttlOfEveryKeyAsync(room, ttlMs + 30_000);
        await ann.Client.SetChoiceAsync(room, "pizza", 2, "slack-2");
        (await PttlAsync($"rs:{{{room.Id}}}:meta")).Should().BeLessThanOrEqualTo(ttlMs + 30_000, "a write within the slack skips the refresh");

        // As if refreshed 61 s ago: less than the TTL is left, so the write refreshes every key.
        await SetPttlOfEveryKeyAsync(room, ttlMs - 1_000);
        await ann.Client.SetChoiceAsync(room, "pizza", 3, "slack-3");
        foreach (var name in KeyNames)
        {
            (await PttlAsync($"rs:{{{room.Id}}}:{name}")).Should().BeGreaterThan(ttlMs, $"rs:{{{room.Id}}}:{name} keeps at least the room's TTL after its last change");
        }
    }

    [Fact]
    public async Task TheRoomsRateKeyGetsAnExpiryWhenCreatedAndAWriteNeverShortensIt()
    {
        // The write-rate buckets' key lives until its fullest-to-be bucket would be full again: a write
        // may lengthen its expiry, never shorten another member's, and a key the write creates has one.
        var room = await server.CreateRoomAsync(ttlMinutes: 2);
        var rate = $"rs:{{{room.Id}}}:rate";
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 1, "r1");
        (await PttlAsync(rate)).Should().BePositive("the key the first write created expires");

        // As if a bucket in it were a minute from full, and the key's record of its expiry too old for the
        // writes below, so that each extends the expiry (only ever with GT).
        await server.Redis.ExecuteAsync("PEXPIRE", rate, "60000");
        await server.Redis.ExecuteAsync("HSET", rate, RecordedEndField, "0");
        await using var bob = await server.JoinAsync(room, "bob");
        await bob.Client.SetChoiceAsync(room, "pizza", 1, "r2");
        await ann.Client.SetChoiceAsync(room, "pizza", 2, "r3");
        (await PttlAsync(rate)).Should().BeGreaterThan(50_000, "a new member's bucket and an existing one's write both leave the longer expiry");
    }

    [Fact]
    public async Task TheRateKeysExpiryIsExtendedOnlyWhenItsRecordedEndIsTooSoon()
    {
        // The key records in its field :until the end its expiry was given. A write whose bucket will be
        // full before then makes no expiry call; one that needs longer extends it 5 s past its need.
        var room = await server.CreateRoomAsync(ttlMinutes: 2);
        var rate = $"rs:{{{room.Id}}}:rate";
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pizza", 1, "e1");
        var recorded = await RecordedEndAsync(rate);
        (await ExpireTimeAsync(rate)).Should().Be(recorded, "the first write gave the key the end it recorded");

        // Shorter than recorded, so a write that trusts the record leaves it as it is.
        await server.Redis.ExecuteAsync("PEXPIRE", rate, "4000");
        await ann.Client.SetChoiceAsync(room, "pizza", 2, "e2");
        (await PttlAsync(rate)).Should().BeLessThanOrEqualTo(4_000, "a write whose bucket is full before the recorded end makes no expiry call");
        (await RecordedEndAsync(rate)).Should().Be(recorded);

        // As if recorded long ago: the end is too soon for this write's bucket, so it extends the expiry
        // (its need here is about 1 s: the suite's buckets are huge) and records the new end.
        var stale = recorded - 5_500;
        await server.Redis.ExecuteAsync("HSET", rate, RecordedEndField, stale.ToString(CultureInfo.InvariantCulture));
        await ann.Client.SetChoiceAsync(room, "pizza", 3, "e3");
        var extended = await RecordedEndAsync(rate);
        extended.Should().BeGreaterThan(stale);
        (await ExpireTimeAsync(rate)).Should().Be(extended, "the write gave the key the end it recorded");
        (await PttlAsync(rate)).Should().BeGreaterThan(4_000, "past its need by the 5 s slack");
    }

    /// <summary>What a refresh gives a room's keys (prelude.lua room_life): the TTL and 1 % of it, 1 to 60 s.</summary>
    private static long RoomLifeSeconds(long ttlSeconds) => ttlSeconds + Math.Clamp(ttlSeconds / 100, 1, 60);

    private async Task SetPttlOfEveryKeyAsync(TestRoom room, long milliseconds)
    {
        foreach (var name in KeyNames)
        {
            await server.Redis.ExecuteAsync("PEXPIRE", $"rs:{{{room.Id}}}:{name}", milliseconds.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The rate hash's own field (prelude.lua RATE_LIVES_UNTIL): a time, in ms, its expiry lasts at least.</summary>
    private const string RecordedEndField = ":until";

    private async Task<long> RecordedEndAsync(string rateKey) =>
        long.Parse((await server.Redis.ExecuteAsync("HGET", rateKey, RecordedEndField))!, CultureInfo.InvariantCulture);

    private async Task<long> ExpireTimeAsync(string key) =>
        long.Parse((await server.Redis.ExecuteAsync("PEXPIRETIME", key))!, CultureInfo.InvariantCulture);

    private async Task<long> PttlAsync(string key) =>
        long.Parse((await server.Redis.ExecuteAsync("PTTL", key))!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task AnExpiredRoomIsGoneForTheApiAndTheHub()
    {
        var room = await server.CreateRoomAsync(ttlMinutes: 1);
        await using var ann = await server.JoinAsync(room, "ann");

        // Let Redis do what the TTL does, now rather than in a minute.
        foreach (var name in KeyNames)
        {
            await server.Redis.ExecuteAsync("PEXPIRE", $"rs:{{{room.Id}}}:{name}", "1");
        }

        await Poll.UntilAsync(async () => await server.Redis.ExecuteAsync("EXISTS", $"rs:{{{room.Id}}}:meta") == "0", TimeSpan.FromSeconds(10), "the room's keys expire together");
        (await server.Api.GetAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("room_not_found");
        (await server.Redis.ExecuteAsync("EXISTS", $"rs:{{{room.Id}}}:choices")).Should().Be("0", "the failed change created nothing");
        (await server.Api.GetAsync($"/api/rooms/{room.Id}/events")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the audit trail expires with the room");
    }

    [Fact]
    public async Task ARemovalCountsUpTheMembersGenerationAndALegacyRemovalTimeStillReadsAsOne()
    {
        var room = await server.CreateRoomAsync();
        var meta = $"rs:{{{room.Id}}}:meta";
        await using (var bob = await server.JoinAsync(room, "bob"))
        {
            (await server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await server.Redis.ExecuteAsync("HGET", meta, "removed:bob")).Should().Be("1", "the first removal is generation 1");

        // A room whose member was removed before generations existed holds the removal time in ms: the
        // API issues tokens with that value as their generation, and the next removal counts on from it.
        await server.Redis.ExecuteAsync("HSET", meta, "removed:bob", "1764000000000");
        await using (var bob = await server.JoinAsync(room, "bob"))
        {
            (await server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await server.Redis.ExecuteAsync("HGET", meta, "removed:bob")).Should().Be("1764000000001");
    }

    /// <summary>
    /// A tick re-creates a live connection's lease that another replica swept (sweep.lua) — also for a
    /// member who was removed and re-admitted: their new token carries the new removal generation.
    /// The embedded twin is InMemoryPresenceReadmissionTests.
    /// </summary>
    [Fact]
    public async Task AReadmittedMembersSweptLeaseIsRebuiltByTheNextTick()
    {
        var room = await server.CreateRoomAsync();
        var presence = $"rs:{{{room.Id}}}:presence";
        await using (var removed = await server.JoinAsync(room, "bob"))
        {
            (await server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/bob")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await using var bob = await server.JoinAsync(room, "bob");
        await using var carl = await server.JoinAsync(room, "carl");
        var bobsLease = await LeaseFieldAsync(presence, "bob");
        bobsLease.Should().NotBeNull("bob joined again with a token issued after his removal");

        // What a survivor's sweep does to the lease of a replica it took for dead.
        await server.Redis.ExecuteAsync("HDEL", presence, bobsLease!);

        await Poll.UntilAsync(async () => await LeaseFieldAsync(presence, "bob") == bobsLease, TimeSpan.FromSeconds(10), "bob's replica re-creates his lease on its next tick");
        await TickClock.LetTimePassAsync(server, TimeSpan.FromSeconds(ContractServer.PresenceGraceSeconds + 1));
        (await server.SnapshotAsync(room)).Members.Single(m => m.MemberId == "bob").Online.Should().BeTrue();
    }

    /// <summary>The presence field (c:REPLICA:CONNECTION) of the member's connection, if it has one.</summary>
    private async Task<string?> LeaseFieldAsync(string presence, string member)
    {
        var flat = await server.Redis.ExecuteListAsync("HGETALL", presence);
        for (var i = 0; i + 1 < flat.Count; i += 2)
        {
            if (flat[i]!.StartsWith("c:", StringComparison.Ordinal) && flat[i + 1]!.StartsWith(member + "|", StringComparison.Ordinal))
            {
                return flat[i];
            }
        }

        return null;
    }

    [Fact]
    public async Task MissedEventsAreReplayedFromTheAuditTrailAndEachEventIsStoredOnce()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        // The list an older RoomServer kept beside the trail (and replayed from): a rolling upgrade can
        // leave one, and an older replica still reads it, so it must not outlive the next event.
        await server.Redis.ExecuteAsync("RPUSH", $"rs:{{{room.Id}}}:history", "{\"version\":1}");
        for (var i = 0; i < ContractServer.HistoryLength + 5; i++)
        {
            await ann.Client.SetChoiceAsync(room, "cola", (i % 2) + 1);
        }

        var version = 1 + ContractServer.HistoryLength + 5;
        (await server.Redis.ExecuteAsync("EXISTS", $"rs:{{{room.Id}}}:history")).Should().Be("0", "the audit trail is the only copy of the events, and an older server's list went with the next one");
        var trail = await server.Redis.ExecuteListAsync("EVAL", AuditTrail.EventsScript, "1", AuditTrail.Key(room.Id), $"{version - ContractServer.HistoryLength + 1}-0");

        var behind = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = version - ContractServer.HistoryLength });
        behind.Missed!.Select(e => e.Version).Should().Equal(Enumerable.Range(version - ContractServer.HistoryLength + 1, ContractServer.HistoryLength).Select(v => (long)v));
        trail.Should().HaveCount(ContractServer.HistoryLength);
        behind.Missed![^1].Should().BeEquivalentTo(RoomChannelProtocol.ParseStoredEvent(trail[^1]!), "the replay is the trail's entries");

        // A trail that no longer holds every missed event (trimmed by hand here) answers a snapshot.
        await server.Redis.ExecuteAsync("XTRIM", AuditTrail.Key(room.Id), "MAXLEN", "3");
        var trimmed = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = version - 5 });
        trimmed.Missed.Should().BeNull("two of the five missed events are gone from the trail");
        trimmed.Snapshot!.Version.Should().Be(version);
        var kept = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = version - 3 });
        kept.Missed!.Select(e => e.Version).Should().Equal(version - 2, version - 1, version);
    }

    /// <summary>
    /// Embedded mode's catch-up bound counts an event as this store keeps it (<see cref="StoredEventSize"/>, DESIGN
    /// §2): for every kind of event here, with texts cjson escapes (quotes, '/', a backslash), non-ASCII and beyond the
    /// BMP, and a payload with whitespace and escapes as sent, its count is the byte length of the trail's entry.
    /// </summary>
    [Fact]
    public async Task EmbeddedModesCountOfAnEventsStoredBytesIsTheTrailsOwn()
    {
        var room = await server.CreateRoomAsync();
        var token = await server.TokenAsync(room, "ann", "owner", displayName: "Ann \"A/B\" \\ Zoë 🍕");
        await using var ann = await server.ConnectAsync(token);
        await ann.InvokeAsync<JoinResult>("Join", room.Id, null);
        await ann.SetChoiceAsync(room, "cola", 3);
        using (var notice = new StringContent("""{"kind":"menu/today","payload":{ "dish" : "pizza 🍕 \u00e9\/é" ,  "n":[1, 2.50] }}""", System.Text.Encoding.UTF8, "application/json"))
        {
            (await server.Api.PostAsync($"/api/rooms/{room.Id}/notices", notice)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        (await ann.InvokeAsync<RoomPosition>("SetRoomState", room.Id, "locked")).Version.Should().Be(4);

        var trail = await server.Redis.ExecuteListAsync("EVAL", AuditTrail.EventsScript, "1", AuditTrail.Key(room.Id), "-");
        trail.Should().HaveCount(4, "ann joined, her choice, the notice, the lock");
        foreach (var stored in trail)
        {
            StoredEventSize.Of(RoomChannelProtocol.ParseStoredEvent(stored!)).Should().Be(
                System.Text.Encoding.UTF8.GetByteCount(stored!), $"embedded mode counts {stored} as stored");
        }
    }

    [Theory]
    [InlineData(16)] // the last entry of join.lua's first page of 16
    [InlineData(17)] // the first of its second page
    [InlineData(19)] // inside the second page
    public async Task AReplayWithAnEventMissingAroundThePageBoundaryOfTheTrailAnswersASnapshot(int missingAfterSince)
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        for (var i = 0; i < ContractServer.HistoryLength; i++)
        {
            await ann.Client.SetChoiceAsync(room, "cola", (i % 2) + 1);
        }

        var version = 1 + ContractServer.HistoryLength;
        var since = version - ContractServer.HistoryLength;
        (await server.Redis.ExecuteAsync("XDEL", AuditTrail.Key(room.Id), $"{since + missingAfterSince}-0")).Should().Be("1");
        var gap = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = since });
        gap.Missed.Should().BeNull("one of the twenty missed events is gone from the trail");
        gap.Snapshot!.Version.Should().Be(version);
        var after = await ann.Client.InvokeAsync<JoinResult>("Join", room.Id, new { epoch = room.Epoch, version = since + missingAfterSince });
        after.Missed!.Select(e => e.Version).Should().Equal(Enumerable.Range(since + missingAfterSince + 1, version - since - missingAfterSince).Select(v => (long)v),
            "every event after the missing one is still on the trail, across the page boundary");
    }

    [Fact]
    public async Task TheAuditTrailIsAStreamByVersionCappedAtTheLengthTheRoomWasCreatedWith()
    {
        var room = await server.CreateRoomAsync();
        var audit = $"rs:{{{room.Id}}}:audit";
        for (var i = 0; i < ContractServer.AuditLength + 5; i++)
        {
            (await server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "n", payload = i })).EnsureSuccessStatusCode();
        }

        (await server.Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:meta", "auditLength")).Should().Be(ContractServer.AuditLength.ToString(CultureInfo.InvariantCulture));
        (await server.Redis.ExecuteAsync("XLEN", audit)).Should().Be(ContractServer.AuditLength.ToString(CultureInfo.InvariantCulture), "the oldest are trimmed");
        (await server.Redis.ExecuteAsync("EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]", "1", audit)).Should().Be("6-0", "entry ids are versions");
        (await server.Redis.ExecuteAsync("EVAL", "return redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][2][2]", "1", audit))
            .Should().Contain($"\"version\":{ContractServer.AuditLength + 5},", "each entry is the event's JSON");
    }

    [Fact]
    public async Task ARoomCreatedBeforeTheTrailExistedKeepsAsManyAuditEventsAsItsHistory()
    {
        var room = await server.CreateRoomAsync();
        await server.Redis.ExecuteAsync("HDEL", $"rs:{{{room.Id}}}:meta", "auditLength"); // what an older server's create.lua wrote
        for (var i = 0; i < ContractServer.HistoryLength + 3; i++)
        {
            (await server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "n", payload = i })).EnsureSuccessStatusCode();
        }

        (await server.Redis.ExecuteAsync("XLEN", $"rs:{{{room.Id}}}:audit")).Should().Be(ContractServer.HistoryLength.ToString(CultureInfo.InvariantCulture));
        var page = await server.Api.GetFromJsonAsync<RoomShare.RoomServer.Rooms.EventPage>($"/api/rooms/{room.Id}/events", ContractServer.Json);
        page!.Oldest.Should().Be(4);
        page.Events.Select(e => e.Version).Should().Equal(Enumerable.Range(4, ContractServer.HistoryLength).Select(v => (long)v));
    }

    [Fact]
    public async Task ChoicesAndMembersAreStoredInTheDesignsHashes()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await ann.Client.SetChoiceAsync(room, "pasta", 3);

        (await server.Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:choices", "ann:pasta")).Should().Be("3");
        (await server.Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:members", "ann")).Should().Be("ANN");
        (await server.Redis.ExecuteAsync("HGET", $"rs:{{{room.Id}}}:meta", "version")).Should().Be("2");
    }
}
