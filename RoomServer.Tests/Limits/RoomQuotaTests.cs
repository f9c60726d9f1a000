using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using StackExchange.Redis;

namespace RoomShare.RoomServer.Tests.Limits;

/// <summary>
/// RoomServer__Limits__MaxRoomsPerApiKey, embedded and against Redis: a key at its limit is refused
/// (429 rate_limited) and nothing is created; other keys are counted apart; deleting frees a place.
/// </summary>
public abstract class RoomQuotaTests(ContractServer server)
{
    [Fact]
    public async Task AKeyAtItsLiveRoomLimitIsRateLimitedUntilItDeletesOne()
    {
        using var quota = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        quota.DefaultRequestHeaders.Add("X-Api-Key", LimitSettings.QuotaApiKey);
        var body = new { name = "Quota", menu = ContractServer.Menu };
        var rooms = new List<string>();
        for (var i = 0; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var created = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            rooms.Add((await created.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId);
        }

        using var refused = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = (await refused.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.RateLimited);
        problem.Detail.Should().Contain($"already has {LimitSettings.MaxRoomsPerApiKey} live rooms", "the message names the limit (DESIGN §5)");
        (await server.CreateRoomAsync()).Id.Should().NotBeNullOrEmpty("another key's rooms are counted apart");

        (await quota.DeleteAsync($"/api/rooms/{rooms[0]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var again = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        again.StatusCode.Should().Be(HttpStatusCode.Created, "a deleted room no longer counts against its key");
        using var full = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        full.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the freed place is taken again");
    }

    /// <summary>
    /// A retry with a room's Idempotency-Key after the room was deleted answers the first 201 without a place:
    /// the key is at its limit, and nothing is created.
    /// </summary>
    [Fact]
    public async Task ARetryWhoseRoomWasDeletedGetsTheFirstAnswerAtTheLimit()
    {
        using var client = QuotaClient(LimitSettings.IdempotentQuotaApiKey);
        var body = new { name = "Keyed", menu = ContractServer.Menu };
        using var first = await PostWithKeyAsync(client, body, "keyed-room");
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        (await client.DeleteAsync($"/api/rooms/{created.RoomId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        for (var i = 0; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var filler = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            filler.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        using var retry = await PostWithKeyAsync(client, body, "keyed-room");

        retry.StatusCode.Should().Be(HttpStatusCode.Created, "the first answer needs no place");
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created);
        (await client.GetAsync($"/api/rooms/{created.RoomId}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the deleted room stays deleted");
        using var full = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        full.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the retry took no place");
    }

    /// <summary>
    /// A keyed room dropped from its key's count (as when a request with the key alongside took its create for
    /// never made and forgot it) is counted again by a retry that finds it: the key's limit holds once more.
    /// </summary>
    [Fact]
    public async Task ARetryFindingItsRoomCountsItAgain()
    {
        using var client = QuotaClient(LimitSettings.UncountedApiKey);
        var body = new { name = "Uncounted", menu = ContractServer.Menu };
        using var first = await PostWithKeyAsync(client, body, "uncounted-room");
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        await server.Services.GetRequiredService<IRoomsPerApiKey>().ReleaseAsync(ApiKeyId(LimitSettings.UncountedApiKey), created.RoomId, CancellationToken.None);
        for (var i = 1; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var filler = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            filler.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        using var retry = await PostWithKeyAsync(client, body, "uncounted-room");

        retry.StatusCode.Should().Be(HttpStatusCode.Created);
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created);
        using var full = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        full.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the retry counted its live room again, so the key is at its limit");
    }

    /// <summary>
    /// A deletion applied whose answer was lost (503, or nginx re-sending it) leaves the room gone and, until its
    /// recorded expiry, its place held — here the room is deleted through the store, not the API. The retry's 404
    /// gives the place back; a 404 for a room the key never held frees nothing.
    /// </summary>
    [Fact]
    public async Task ADeletionAnsweredNotFoundGivesTheKeysPlaceForThatRoomBack()
    {
        using var client = QuotaClient(LimitSettings.GoneRoomApiKey);
        var body = new { name = "Gone", menu = ContractServer.Menu };
        var rooms = new List<string>();
        for (var i = 0; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var created = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            created.StatusCode.Should().Be(HttpStatusCode.Created);
            rooms.Add((await created.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId);
        }

        await server.Services.GetRequiredService<IRoomStore>().DeleteAsync(new RoomDeletion(rooms[0], TimeProvider.System.Stamp()), CancellationToken.None);
        using (var held = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json))
        {
            held.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the gone room still holds its place");
        }

        using (var never = await client.DeleteAsync("/api/rooms/neverheldroom1"))
        {
            never.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        using (var stillFull = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json))
        {
            stillFull.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "a 404 for a room the key never held frees nothing");
        }

        using var retry = await client.DeleteAsync($"/api/rooms/{rooms[0]}");
        retry.StatusCode.Should().Be(HttpStatusCode.NotFound, "the room is gone: the deletion was done");
        (await retry.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.RoomNotFound);

        using var again = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        again.StatusCode.Should().Be(HttpStatusCode.Created, "the 404 gave the gone room's place back");
        using var full = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        full.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "one place was freed, once");
    }

    /// <summary>
    /// DESIGN §4: a room creation records its Idempotency-Key before it acts, so a keyed create refused 429 at the key's
    /// room limit binds the key: another body with it is 422 for the whole window, and the same body runs again.
    /// </summary>
    [Fact]
    public async Task AKeyedCreationRefusedAtTheLimitBindsItsIdempotencyKey()
    {
        using var client = QuotaClient(LimitSettings.RefusedKeyApiKey);
        var body = new { name = "Refused", menu = ContractServer.Menu };
        var rooms = new List<string>();
        for (var i = 0; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var filler = await client.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            filler.StatusCode.Should().Be(HttpStatusCode.Created);
            rooms.Add((await filler.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId);
        }

        using var refused = await PostWithKeyAsync(client, body, "refused-at-limit");
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the key is at its room limit");
        (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.RateLimited);

        using var another = await PostWithKeyAsync(client, new { name = "Another", menu = ContractServer.Menu }, "refused-at-limit");

        another.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, "the refused attempt bound the key to its body (unbound, this would be 429 again)");
        var problem = (await another.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Should().BeEquivalentTo(new { Code = RoomErrorCodes.InvalidArgument, Status = 422 });
        problem.Detail.Should().Contain("Idempotency-Key reused with a different request");

        (await client.DeleteAsync($"/api/rooms/{rooms[0]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var again = await PostWithKeyAsync(client, body, "refused-at-limit");
        again.StatusCode.Should().Be(HttpStatusCode.Created, "a retry with the same body runs again, and a place is free now");
        var created = (await again.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        (await client.GetAsync($"/api/rooms/{created.RoomId}")).StatusCode.Should().Be(HttpStatusCode.OK);
        using var stillBound = await PostWithKeyAsync(client, new { name = "Another", menu = ContractServer.Menu }, "refused-at-limit");
        stillBound.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, "the key stays bound to its first body");
    }

    protected static string ApiKeyId(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16];

    protected HttpClient QuotaClient(string apiKey)
    {
        var client = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    protected static Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, object body, string idempotencyKey, string path = "/api/rooms")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: ContractServer.Json) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }
}

[Trait("Suite", "Limits")]
public sealed class EmbeddedRoomQuotaTests(EmbeddedRoomQuotaServer server)
    : RoomQuotaTests(server), IClassFixture<EmbeddedRoomQuotaServer>;

[Trait("Suite", "Limits")]
public sealed class RedisRoomQuotaTests(RedisRoomQuotaServer server)
    : RoomQuotaTests(server), IClassFixture<RedisRoomQuotaServer>
{
    /// <summary>
    /// The key's set holds rooms as last seen. Entries past their recorded expiry are looked up when the
    /// key next creates a room: a room that is gone (here: never existed) is forgotten, one still there
    /// (its TTL moved on with use) is kept and re-scored.
    /// </summary>
    [Fact]
    public async Task StaleEntriesArePrunedWhenTheirRoomIsGoneAndKeptWhenItIsThere()
    {
        var set = RoomsSet(LimitSettings.PruneApiKey);
        await server.Redis.ExecuteAsync("ZADD", set, "1", "GoneRoomA", "1", "GoneRoomB", "1", "GoneRoomC");
        await server.Redis.ExecuteAsync("PEXPIRE", set, "600000"); // as an older RoomServer left it
        using var prune = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        prune.DefaultRequestHeaders.Add("X-Api-Key", LimitSettings.PruneApiKey);
        var body = new { name = "Prune", menu = ContractServer.Menu };
        var rooms = new List<string>();
        for (var i = 0; i < LimitSettings.MaxRoomsPerApiKey; i++)
        {
            using var created = await prune.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
            created.StatusCode.Should().Be(HttpStatusCode.Created, "the three entries of rooms that do not exist were pruned");
            rooms.Add((await created.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId);
        }

        (await server.Redis.ExecuteListAsync("ZRANGE", set, "0", "-1")).Should().BeEquivalentTo(rooms);
        await server.Redis.ExecuteAsync("ZADD", set, "XX", "1", rooms[0]);

        using var refused = await prune.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "a stale entry whose room still exists still counts");
        var score = long.Parse((await server.Redis.ExecuteAsync("ZSCORE", set, rooms[0]))!, CultureInfo.InvariantCulture);
        score.Should().BeGreaterThan(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "it was re-scored with the room's TTL");
        long.Parse((await server.Redis.ExecuteAsync("PTTL", set))!, CultureInfo.InvariantCulture).Should().Be(-1,
            "the set never expires while it holds rooms: a busy room's TTL moves on past the expiry recorded in it, and an expired set would start the count again at 0");
    }

    /// <summary>
    /// A retry with a room's Idempotency-Key after the room's shard failed over (failover.lua renewed its epoch)
    /// answers the first 201 — the same id and the epoch first answered — and makes no second room.
    /// </summary>
    [Fact]
    public async Task ARetryAfterTheRoomsEpochWasRenewedAnswersTheSameRoomAndMakesNoOther()
    {
        using var client = QuotaClient(LimitSettings.FailoverApiKey);
        var body = new { name = "Failover", menu = ContractServer.Menu };
        using var first = await PostWithKeyAsync(client, body, "failover-room");
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        // What failover.lua does to a room whose master a promoted replica replaced (FailoverEpochTests promotes
        // a server in place; this class's server is shared by its tests, so the renewal's effect is written here).
        var meta = $"rs:{{{created.RoomId}}}:meta";
        await server.Redis.ExecuteAsync("HSET", meta, "epoch", "renewedEpoch1");
        (await server.Redis.ExecuteAsync("HGET", meta, "epoch")).Should().NotBe(created.Epoch);

        using var retry = await PostWithKeyAsync(client, body, "failover-room");

        retry.StatusCode.Should().Be(HttpStatusCode.Created);
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created, "the first answer, not a second room");
        (await server.Redis.ExecuteListAsync("ZRANGE", RoomsSet(LimitSettings.FailoverApiKey), "0", "-1"))
            .Should().Equal([created.RoomId], "the key holds its one room, counted once");
    }

    /// <summary>
    /// A once-mark lost while its room lives (evicted) is not taken for "never made": the room there with the
    /// recorded epoch answers the retry — the same room, no second one — and the mark is set again.
    /// </summary>
    [Fact]
    public async Task ARetryWhoseOnceMarkWasLostAnswersTheSameRoomAndMakesNoOther()
    {
        using var client = QuotaClient(LimitSettings.LostMarkApiKey);
        var body = new { name = "Lost mark", menu = ContractServer.Menu };
        using var first = await PostWithKeyAsync(client, body, "lost-mark-room");
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        var mark = $"rs:{{{created.RoomId}}}:created";
        (await server.Redis.ExecuteAsync("DEL", mark)).Should().Be("1");

        using var retry = await PostWithKeyAsync(client, body, "lost-mark-room");

        retry.StatusCode.Should().Be(HttpStatusCode.Created);
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created, "the first answer, not a second room");
        (await server.Redis.ExecuteListAsync("ZRANGE", RoomsSet(LimitSettings.LostMarkApiKey), "0", "-1"))
            .Should().Equal([created.RoomId], "the key holds its one room, counted once");
        (await server.Redis.ExecuteAsync("GET", mark)).Should().Be(created.Epoch, "the mark is set again");
    }

    /// <summary>
    /// idem_claim.lua rewrites a record it finds (its expiry kept), so the WAIT after a retry's claim confirms a
    /// record another request wrote. Seen here as a keyspace event on that very record (not a server-wide
    /// write count, which any background write would bump).
    /// </summary>
    [Fact]
    public async Task ARetrysClaimRewritesTheRecordItFindsKeepingItsExpiry()
    {
        using var client = QuotaClient(LimitSettings.FailoverApiKey);
        var body = new { kind = "info", message = "once" };
        (await PostWithKeyAsync(client, body, "claim-rewrite", "/api/announcements")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var record = "rs:key:{" + ApiKeyId(LimitSettings.FailoverApiKey) + "}:idem:announcements:claim-rewrite";
        var ttlBefore = long.Parse((await server.Redis.ExecuteAsync("PTTL", record))!, CultureInfo.InvariantCulture);
        var events = new List<string>();
        bool HasSet()
        {
            lock (events)
            {
                return events.Contains("set");
            }
        }

        var notifyBefore = (await server.Redis.ExecuteListAsync("CONFIG", "GET", "notify-keyspace-events"))[1] ?? "";
        await using var subscriber = await ConnectionMultiplexer.ConnectAsync(server.Redis.Endpoint);
        await server.Redis.ExecuteAsync("CONFIG", "SET", "notify-keyspace-events", "KA");
        try
        {
            await subscriber.GetSubscriber().SubscribeAsync(RedisChannel.Literal("__keyspace@0__:" + record), (_, message) =>
            {
                lock (events)
                {
                    events.Add((string)message!);
                }
            });

            (await PostWithKeyAsync(client, body, "claim-rewrite", "/api/announcements")).StatusCode.Should().Be(HttpStatusCode.Accepted);
            // Handlers may run a moment after their message arrives: a bounded wait for the event.
            for (var waited = 0; waited < 40 && !HasSet(); waited++)
            {
                await Task.Delay(50);
            }
        }
        finally
        {
            await server.Redis.ExecuteAsync("CONFIG", "SET", "notify-keyspace-events", notifyBefore);
        }

        HasSet().Should().BeTrue("the retry's claim rewrote the sent record (events: {0})", string.Join(",", events));

        var ttlAfter = long.Parse((await server.Redis.ExecuteAsync("PTTL", record))!, CultureInfo.InvariantCulture);
        ttlAfter.Should().BePositive().And.BeLessThanOrEqualTo(ttlBefore, "the rewrite keeps the record's expiry");
    }

    private static string RoomsSet(string apiKey) => "rs:key:{" + ApiKeyId(apiKey) + "}:rooms";
}
