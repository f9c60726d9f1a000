using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The audit trail, <c>GET /api/rooms/{roomId}/events?from=&amp;limit=</c> (DESIGN.md §4, §8): every
/// event the room sent, further back than Join(since) replays, paged by version. The contract server
/// replays up to <see cref="ContractServer.HistoryLength"/> events and keeps a trail of <see cref="ContractServer.AuditLength"/>.
/// </summary>
public abstract partial class RoomContractTests
{
    /// <summary>Bounds any paging loop: no test trail needs more pages than this.</summary>
    private const int MaxPages = 200;

    [Fact]
    public async Task TheTrailReturnsEveryEventOnceInOrderAcrossPagesFarPastTheHistoryCap()
    {
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.JoinAsync(room, "ann");
        var menu = ContractServer.Menu;
        for (var i = 0; i < 30; i++)
        {
            // Every third call touches the same item with a different quantity: each one is an event.
            await ann.Client.SetChoiceAsync(room, menu[i % menu.Length].Id, (i % 4) + 1, $"op-{i}");
        }

        (await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "eta", payload = new { minutes = 12, note = "busy" } })).EnsureSuccessStatusCode();
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "locked" })).EnsureSuccessStatusCode();
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "open" })).EnsureSuccessStatusCode();
        await using var bob = await Server.JoinAsync(room, "bob");
        const int total = 1 + 30 + 3 + 1;
        total.Should().BeGreaterThan(ContractServer.HistoryLength, "the trail must reach past what Join(since) replays");
        var live = new List<RoomEvent>();
        for (var i = 0; i < total; i++)
        {
            live.Add(await ann.Client.NextEventAsync());
        }

        var pages = await ReadWholeTrailAsync(room, limit: 7);

        pages.Should().HaveCount(5, "35 events in pages of 7");
        pages.Take(4).Should().OnlyContain(p => p.Events.Count == 7);
        pages.Select(p => p.Next).Should().Equal(8L, 15L, 22L, 29L, null);
        pages.Should().OnlyContain(p => p.Oldest == 1, "nothing was trimmed");
        var paged = pages.SelectMany(p => p.Events).ToList();
        paged.Select(e => e.Version).Should().Equal(Enumerable.Range(1, total).Select(v => (long)v), "every event exactly once, in order");
        paged.Should().BeEquivalentTo(live, o => o.WithStrictOrdering().Excluding(e => e.Payload), "each event as it was sent");
        paged.Zip(live).Should().OnlyContain(p => SamePayload(p.First.Payload, p.Second.Payload));
        paged.Select(e => e.Type).Distinct().Should().BeEquivalentTo(["member", "choice", "notice", "state"]);
        paged.Last().Should().BeEquivalentTo(new { Type = "member", MemberId = "bob", DisplayName = "BOB" });
    }

    [Fact]
    public async Task PastItsLengthTheTrailDropsTheOldestAndEveryPageSaysWhereItNowBegins()
    {
        var room = await Server.CreateRoomAsync();
        const int total = ContractServer.AuditLength + 10;
        await PublishNoticesAsync(room, total);
        const long oldest = total - ContractServer.AuditLength + 1;

        var all = await ReadPageAsync(Server.Api, room, "from=1&limit=1000");
        var fromTrimmed = await ReadPageAsync(Server.Api, room, "from=5&limit=3");
        var pages = await ReadWholeTrailAsync(room, limit: 50);

        all.Events.Select(e => e.Version).Should().Equal(Enumerable.Range((int)oldest, ContractServer.AuditLength).Select(v => (long)v));
        all.Should().BeEquivalentTo(new { Next = (long?)null, Oldest = (long?)oldest });
        fromTrimmed.Events.Select(e => e.Version).Should().Equal([oldest, oldest + 1, oldest + 2], "a from below the trail starts at its oldest event");
        fromTrimmed.Should().BeEquivalentTo(new { Next = (long?)(oldest + 3), Oldest = (long?)oldest }, "the page says that versions before it are no longer on record");
        pages.Select(p => p.Events.Count).Should().Equal(50, 50, 20);
        pages.SelectMany(p => p.Events).Select(e => e.Version).Should().Equal(all.Events.Select(e => e.Version));
        pages.SelectMany(p => p.Events).Select(e => e.Payload!.Value.GetInt32()).Should().Equal(Enumerable.Range((int)oldest, ContractServer.AuditLength), "each notice's own payload");
    }

    [Fact]
    public async Task FromDefaultsToOneLimitTo100AndAReaderAtTheEndPicksUpTheNextEvent()
    {
        var room = await Server.CreateRoomAsync();
        await PublishNoticesAsync(room, 105);

        var first = await ReadPageAsync(Server.Api, room, "");
        var rest = await ReadPageAsync(Server.Api, room, $"from={first.Next}");
        var max = await ReadPageAsync(Server.Api, room, "limit=1000");
        var one = await ReadPageAsync(Server.Api, room, "from=105&limit=1");
        var beyond = await ReadPageAsync(Server.Api, room, "from=106");
        await PublishNoticesAsync(room, 1, firstPayload: 106);
        var caughtUp = await ReadPageAsync(Server.Api, room, "from=106");

        first.Events.Select(e => e.Version).Should().Equal(Enumerable.Range(1, 100).Select(v => (long)v));
        first.Should().BeEquivalentTo(new { Next = (long?)101, Oldest = (long?)1 });
        rest.Events.Select(e => e.Version).Should().Equal(101L, 102L, 103L, 104L, 105L);
        rest.Next.Should().BeNull("the trail holds nothing after this page");
        max.Events.Should().HaveCount(105);
        max.Next.Should().BeNull();
        one.Events.Should().ContainSingle().Which.Version.Should().Be(105);
        one.Next.Should().BeNull("the page ends exactly at the newest event");
        beyond.Should().BeEquivalentTo(new { Events = Array.Empty<RoomEvent>(), Next = (long?)null, Oldest = (long?)1 });
        caughtUp.Events.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Version = 106L, Type = "notice" });
    }

    [Fact]
    public async Task ARoomWithNoEventsYetHasAnEmptyTrail()
    {
        var room = await Server.CreateRoomAsync();

        var page = await ReadPageAsync(Server.Api, room, "");

        page.Should().BeEquivalentTo(new { Events = Array.Empty<RoomEvent>(), Next = (long?)null, Oldest = (long?)null });
    }

    [Theory]
    [InlineData("from=0")]
    [InlineData("from=-3")]
    [InlineData("from=abc")]
    [InlineData("from=1.5")]
    [InlineData("from=99999999999999999999")]
    [InlineData("limit=0")]
    [InlineData("limit=-1")]
    [InlineData("limit=1001")]
    [InlineData("limit=ten")]
    [InlineData("from=1&limit=100000000000")]
    public async Task ABadFromOrLimitIsA400InvalidArgument(string query)
    {
        var room = await Server.CreateRoomAsync();
        await PublishNoticesAsync(room, 1);

        var response = await Server.Api.GetAsync($"/api/rooms/{room.Id}/events?{query}");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument");
    }

    [Fact]
    public async Task TheTrailNeedsTheApiKeyOrATokenForThatRoom()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        await PublishNoticesAsync(room, 2);
        var token = await Server.TokenAsync(room, "ann");
        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}/events");
        wrongKey.Headers.Add("X-Api-Key", "not-the-key-at-all");

        var anonymous = await Server.Anonymous.GetAsync($"/api/rooms/{room.Id}/events");
        var wrong = await Server.Anonymous.SendAsync(wrongKey);
        var foreign = await Server.Anonymous.SendAsync(WithToken($"/api/rooms/{other.Id}/events", token));
        var own = await Server.Anonymous.SendAsync(WithToken($"/api/rooms/{room.Id}/events?from=2", token));

        foreach (var response in new[] { anonymous, wrong })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("unauthorized");
        }

        foreign.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a token for another room");
        (await foreign.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("forbidden");
        own.StatusCode.Should().Be(HttpStatusCode.OK, "a member reads their own room's trail");
        (await own.Content.ReadFromJsonAsync<EventPage>(ContractServer.Json))!.Events.Select(e => e.Version).Should().Equal(2L);
    }

    [Fact]
    public async Task AnUnknownOrDeletedRoomHasNoTrail()
    {
        var room = await Server.CreateRoomAsync();
        await PublishNoticesAsync(room, 3);
        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var deleted = await Server.Api.GetAsync($"/api/rooms/{room.Id}/events");
        var unknown = await Server.Api.GetAsync("/api/rooms/NoSuchRoom/events");
        var invalid = await Server.Api.GetAsync("/api/rooms/no.such.room/events");

        foreach (var response in new[] { deleted, unknown })
        {
            response.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("room_not_found");
        }

        invalid.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await invalid.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument");
    }

    /// <summary>Publishes <paramref name="count"/> notices through the API, payloads counting up from <paramref name="firstPayload"/>.</summary>
    private async Task PublishNoticesAsync(TestRoom room, int count, int firstPayload = 1)
    {
        for (var i = 0; i < count; i++)
        {
            var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "n", payload = firstPayload + i });
            response.EnsureSuccessStatusCode();
        }
    }

    private static async Task<EventPage> ReadPageAsync(HttpClient client, TestRoom room, string query)
    {
        var response = await client.GetAsync($"/api/rooms/{room.Id}/events?{query}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<EventPage>(ContractServer.Json))!;
    }

    /// <summary>Follows <c>next</c> from the start until it is null.</summary>
    private async Task<List<EventPage>> ReadWholeTrailAsync(TestRoom room, int limit)
    {
        var pages = new List<EventPage>();
        string query = $"limit={limit.ToString(CultureInfo.InvariantCulture)}";
        while (true)
        {
            pages.Count.Should().BeLessThan(MaxPages, "paging must end");
            var page = await ReadPageAsync(Server.Api, room, query);
            pages.Add(page);
            if (page.Next is not { } next)
            {
                return pages;
            }

            page.Events.Should().NotBeEmpty("a page with a next has events");
            next.Should().Be(page.Events[^1].Version + 1, "next is the version after the page");
            query = $"from={next.ToString(CultureInfo.InvariantCulture)}&limit={limit.ToString(CultureInfo.InvariantCulture)}";
        }
    }

    private static HttpRequestMessage WithToken(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static bool SamePayload(JsonElement? a, JsonElement? b) =>
        a is null || a.Value.ValueKind == JsonValueKind.Null
            ? b is null || b.Value.ValueKind == JsonValueKind.Null
            : b is { } other && JsonElement.DeepEquals(a.Value, other);
}
