using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// DESIGN §4's <c>Idempotency-Key</c> on the API's POST writes: a retry with the key gets the first answer
/// and applies nothing (no second event, room or announcement); the key reused for another request is 422
/// <c>invalid_argument</c>; a malformed key is 400. Keys are the caller's own, and a notice's the room's.
/// </summary>
public abstract partial class RoomContractTests
{
    private const string IdempotencyKeyHeader = "Idempotency-Key";

    public static TheoryData<string> MalformedIdempotencyKeys => new()
    {
        "has space",
        "a:b",
        "rs:{x}",
        new string('k', 65),
        "",
    };

    [Fact]
    public async Task ARetriedNoticeWithItsIdempotencyKeyAppliesOnceAndAnswersTheFirstVersion()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var key = NewIdempotencyKey();

        var first = await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = new { minutes = 5 } }, key);
        var retry = await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = new { minutes = 5 } }, key);

        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted, "a retry gets the first answer");
        (await first.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        (await retry.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2, "the retry's answer is the first notice's version");

        (await PostNoticeAsync(Server.Api, room, new { kind = "barrier" }, key: null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextEventShouldBeAsync(2)).Kind.Should().Be("eta");
        (await ann.Client.NextEventShouldBeAsync(3)).Kind.Should().Be("barrier", "the retry sent no second notice");
        (await NoticeKindsAsync(room)).Should().Equal(["eta", "barrier"], "the audit trail holds the notice once");
        await AssertOnlyDocumentedKeysAndChannelsAsync();
    }

    [Fact]
    public async Task AnIdempotencyKeyReusedForAnotherNoticeIs422AndAppliesNothing()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var key = NewIdempotencyKey();
        (await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = 5 }, key)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await ann.Client.NextEventShouldBeAsync(2);

        var reused = await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = 6 }, key);

        reused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        reused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = (await reused.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Should().BeEquivalentTo(new { Code = RoomErrorCodes.InvalidArgument, Status = 422 });
        problem.Detail.Should().Contain("Idempotency-Key reused with a different request");
        await AssertNothingChangedAsync(room, ann, 2);
    }

    [Fact]
    public async Task NoticesWithDifferentIdempotencyKeysAreTwoNotices()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var one = await PostNoticeAsync(Server.Api, room, new { kind = "eta" }, NewIdempotencyKey());
        var two = await PostNoticeAsync(Server.Api, room, new { kind = "eta" }, NewIdempotencyKey());

        (await one.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        (await two.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(3);
        (await NoticeKindsAsync(room)).Should().Equal(["eta", "eta"]);
    }

    /// <summary>One key from another API key, or for another room, names another request: each applies.</summary>
    [Fact]
    public async Task AnIdempotencyKeyIsTheCallersOwnAndANoticesTheRooms()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var other = await Server.CreateRoomAsync();
        var key = NewIdempotencyKey();

        var mine = await PostNoticeAsync(Server.Api, room, new { kind = "eta" }, key);
        var anotherCallers = await PostNoticeAsync(Server.OtherApi, room, new { kind = "eta", payload = "different body, other caller" }, key);
        var anotherRooms = await PostNoticeAsync(Server.Api, other, new { kind = "eta", payload = "different body, other room" }, key);

        (await mine.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        anotherCallers.StatusCode.Should().Be(HttpStatusCode.Accepted, "another API key's Idempotency-Key never meets this one's");
        (await anotherCallers.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(3);
        anotherRooms.StatusCode.Should().Be(HttpStatusCode.Accepted, "a notice's key is the room's");
        (await anotherRooms.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(1);
    }

    [Theory]
    [MemberData(nameof(MalformedIdempotencyKeys))]
    public async Task AMalformedIdempotencyKeyIs400NamingTheHeaderOnEveryRoute(string key)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var routes = new (string Path, object Body)[]
        {
            ($"/api/rooms/{room.Id}/notices", new { kind = "eta" }),
            ("/api/rooms", new { name = "T", menu = ContractServer.Menu }),
            ("/api/announcements", new { kind = "info", message = "refused" }),
        };

        foreach (var (path, body) in routes)
        {
            using var response = await PostWithKeyAsync(Server.Api, path, body, key);

            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, path);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
            problem.Code.Should().Be(RoomErrorCodes.InvalidArgument, path);
            problem.Detail.Should().Contain("Idempotency-Key", $"{path} names the header");
        }

        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task ARetriedRoomCreationWithItsIdempotencyKeyAnswersTheSameRoom()
    {
        var key = NewIdempotencyKey();
        var body = new { name = "Table 9", menu = ContractServer.Menu, ttlMinutes = 30 };

        using var first = await PostWithKeyAsync(Server.Api, "/api/rooms", body, key);
        using var retry = await PostWithKeyAsync(Server.Api, "/api/rooms", body, key);

        first.StatusCode.Should().Be(HttpStatusCode.Created);
        retry.StatusCode.Should().Be(HttpStatusCode.Created, "a retry gets the first answer");
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created, "the same room, not a second one");
        retry.Headers.Location!.ToString().Should().Be($"/api/rooms/{created.RoomId}");

        // Another caller's same key makes its own room; another body under this caller's key is refused.
        using var otherCallers = await PostWithKeyAsync(Server.OtherApi, "/api/rooms", body, key);
        (await otherCallers.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!.RoomId.Should().NotBe(created.RoomId);
        using var reused = await PostWithKeyAsync(Server.Api, "/api/rooms", new { name = "Table 10", menu = ContractServer.Menu, ttlMinutes = 30 }, key);
        reused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await reused.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = RoomErrorCodes.InvalidArgument, Status = 422 });
        await AssertOnlyDocumentedKeysAndChannelsAsync();
    }

    /// <summary>A retry after the room was deleted still answers the first result, and does not make the room again.</summary>
    [Fact]
    public async Task ARoomCreationRetriedAfterTheRoomsDeletionDoesNotMakeItAgain()
    {
        var key = NewIdempotencyKey();
        var body = new { name = "Table 11", menu = ContractServer.Menu };
        using var first = await PostWithKeyAsync(Server.Api, "/api/rooms", body, key);
        var created = (await first.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        (await Server.Api.DeleteAsync($"/api/rooms/{created.RoomId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var retry = await PostWithKeyAsync(Server.Api, "/api/rooms", body, key);

        retry.StatusCode.Should().Be(HttpStatusCode.Created);
        (await retry.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json)).Should().Be(created);
        (await Server.Api.GetAsync($"/api/rooms/{created.RoomId}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the deleted room stays deleted");
    }

    /// <summary>
    /// The digest covers the request as sent: an absent ttlMinutes is not the replica's DefaultRoomTtlMinutes (which
    /// replicas may set apart), so the default sent explicitly under the same key is another request.
    /// </summary>
    [Fact]
    public async Task ARoomsIdempotencyKeyDigestCoversTtlMinutesAsSent()
    {
        var key = NewIdempotencyKey();
        using var first = await PostWithKeyAsync(Server.Api, "/api/rooms", new { name = "Table 12", menu = ContractServer.Menu }, key);
        first.StatusCode.Should().Be(HttpStatusCode.Created);

        using var explicitDefault = await PostWithKeyAsync(
            Server.Api, "/api/rooms", new { name = "Table 12", menu = ContractServer.Menu, ttlMinutes = new RoomServerOptions().DefaultRoomTtlMinutes }, key);

        explicitDefault.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, "ttlMinutes sent is not ttlMinutes absent");
    }

    [Fact]
    public async Task ARetriedAnnouncementWithItsIdempotencyKeyIsDeliveredOnce()
    {
        var (_, ann) = await RoomWithMemberAsync("ann");
        await using var __ = ann;
        var key = NewIdempotencyKey();
        var body = new { kind = "maintenance", message = "Back in 5 minutes" };

        using var first = await PostWithKeyAsync(Server.Api, "/api/announcements", body, key);
        using var retry = await PostWithKeyAsync(Server.Api, "/api/announcements", body, key);

        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var id = (await first.Content.ReadFromJsonAsync<AnnouncementAck>(ContractServer.Json))!.Id;
        (await retry.Content.ReadFromJsonAsync<AnnouncementAck>(ContractServer.Json))!.Id.Should().Be(id, "a retry gets the first answer");
        using var reused = await PostWithKeyAsync(Server.Api, "/api/announcements", new { kind = "maintenance", message = "another" }, key);
        reused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);

        // Barrier: the announcement after the first is this one, so the retry (and the refused reuse) sent nothing.
        (await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = "barrier" })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("id").GetString().Should().Be(id);
        (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("message").GetString().Should().Be("barrier", "the retry was not delivered again");
    }

    [Fact]
    public async Task TheOpenApiDocumentListsTheIdempotencyKeyHeaderOnThePostWrites()
    {
        var document = await Server.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        foreach (var path in new[] { "/api/rooms", "/api/rooms/{roomId}/notices", "/api/announcements" })
        {
            var parameters = document.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("parameters").EnumerateArray();
            parameters.Should().Contain(p => p.GetProperty("name").GetString() == IdempotencyKeyHeader && p.GetProperty("in").GetString() == "header", path);
        }
    }

    /// <summary>
    /// DESIGN §4 "Input refused as invalid (400) binds nothing on any route": after a 400 with a key, a valid request
    /// with that key applies (were the 400 bound, it would be 422), and a retry of it gets its answer.
    /// </summary>
    [Theory]
    [InlineData("/api/rooms")]
    [InlineData("/api/rooms/{roomId}/notices")]
    [InlineData("/api/announcements")]
    public async Task ARequestRefusedAs400BindsNothingToItsIdempotencyKey(string route)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var path = route.Replace("{roomId}", room.Id, StringComparison.Ordinal);
        var (invalid, valid) = route switch
        {
            "/api/rooms" => ((object)new { name = "  ", menu = ContractServer.Menu }, (object)new { name = "Table 13", menu = ContractServer.Menu }),
            "/api/announcements" => (new { kind = "maintenance", message = "  " }, new { kind = "maintenance", message = "Back in 5 minutes" }),
            _ => (new { kind = "  ", payload = 5 }, new { kind = "eta", payload = 5 }),
        };
        var key = NewIdempotencyKey();

        using var refused = await PostWithKeyAsync(Server.Api, path, invalid, key);
        using var applied = await PostWithKeyAsync(Server.Api, path, valid, key);
        using var retry = await PostWithKeyAsync(Server.Api, path, valid, key);

        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the first request is invalid input");
        (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        applied.StatusCode.Should().Be(route == "/api/rooms" ? HttpStatusCode.Created : HttpStatusCode.Accepted,
            "a 400 binds nothing, so the key is free for another request (bound, it would be 422)");
        retry.StatusCode.Should().Be(applied.StatusCode, "the key is bound by the request that applied");
        (await retry.Content.ReadAsStringAsync()).Should().Be(await applied.Content.ReadAsStringAsync(), "a retry gets the first answer's body");
    }

    /// <summary>
    /// DESIGN §4 "a failed notice (404, 409, 429, 503) binds nothing": a keyed notice refused 409 because the room is
    /// closed leaves the key free, so the same key with another body is refused for the room (409), not 422.
    /// </summary>
    [Fact]
    public async Task ANoticeRefusedAsRoomClosedBindsNothingToItsIdempotencyKey()
    {
        var room = await Server.CreateRoomAsync();
        (await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var key = NewIdempotencyKey();

        using var first = await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = 5 }, key);
        using var another = await PostNoticeAsync(Server.Api, room, new { kind = "eta", payload = 6 }, key);

        foreach (var response in new[] { first, another })
        {
            response.StatusCode.Should().Be(HttpStatusCode.Conflict, "a closed room takes no notice, and the refused one bound no key (bound, another body would be 422)");
            (await response.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = RoomErrorCodes.RoomClosed, Status = 409 });
        }

        (await Server.SnapshotAsync(room)).Version.Should().Be(1, "only the close is an event");
    }

    /// <summary>
    /// DESIGN §4: a notice's key is checked in its own script before the room's state, so a retry of a notice that
    /// applied gets the first 202 and its version even once the room is closed, and applies nothing.
    /// </summary>
    [Fact]
    public async Task ARetriedNoticeAfterTheRoomClosedGetsTheFirstAnswerAndAppliesNothing()
    {
        var (room, olga) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = olga;
        var key = NewIdempotencyKey();
        var body = new { kind = "eta", payload = new { minutes = 5 } };
        using var first = await PostNoticeAsync(Server.Api, room, body, key);
        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await first.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        (await olga.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "closed")).Version.Should().Be(3);
        await olga.Client.NextEventShouldBeAsync(2);
        await olga.Client.NextEventShouldBeAsync(3);

        using var retry = await PostNoticeAsync(Server.Api, room, body, key);

        retry.StatusCode.Should().Be(HttpStatusCode.Accepted, "the key's record answers before the room's state is checked");
        (await retry.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2, "the first notice's version");
        (await Server.SnapshotAsync(room)).Version.Should().Be(3, "the retry applied nothing");
        (await NoticeKindsAsync(room)).Should().Equal(["eta"], "the audit trail holds the notice once");
        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await olga.Client.NextEventShouldBeAsync(4)).Should().BeEquivalentTo(new { Type = RoomEventTypes.State, State = "deleted" }, "the retry sent no event");
    }

    /// <summary>
    /// DESIGN §4: a notice's digest covers its payload's JSON text byte for byte — whitespace and member order count —
    /// so the same value written otherwise under the same key is another request (422), and only the same bytes retry.
    /// </summary>
    [Fact]
    public async Task ANoticesIdempotencyDigestIsItsPayloadsTextByteForByte()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var key = NewIdempotencyKey();
        const string Sent = """{"kind":"eta","payload":{"minutes":5,"note":"soon"}}""";
        using var first = await PostRawWithKeyAsync(Server.Api, $"/api/rooms/{room.Id}/notices", Sent, key);
        first.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await first.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        await ann.Client.NextEventShouldBeAsync(2);

        foreach (var (body, what) in new[]
        {
            ("""{"kind":"eta","payload":{"minutes": 5, "note": "soon"}}""", "whitespace"),
            ("""{"kind":"eta","payload":{"note":"soon","minutes":5}}""", "member order"),
        })
        {
            using var other = await PostRawWithKeyAsync(Server.Api, $"/api/rooms/{room.Id}/notices", body, key);
            other.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, $"a payload differing in {what} is another request");
            (await other.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = RoomErrorCodes.InvalidArgument, Status = 422 });
        }

        using var retry = await PostRawWithKeyAsync(Server.Api, $"/api/rooms/{room.Id}/notices", Sent, key);
        retry.StatusCode.Should().Be(HttpStatusCode.Accepted, "the same bytes are a retry");
        (await retry.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2, "the retry gets the first answer");
        await AssertNothingChangedAsync(room, ann, 2);
    }

    private static string NewIdempotencyKey() => "idem-" + Guid.NewGuid().ToString("N");

    /// <summary>A POST of exactly these JSON bytes (a serializer would write its own).</summary>
    private static Task<HttpResponseMessage> PostRawWithKeyAsync(HttpClient client, string path, string json, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, key);
        return client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PostNoticeAsync(HttpClient client, TestRoom room, object body, string? key) =>
        PostWithKeyAsync(client, $"/api/rooms/{room.Id}/notices", body, key);

    private static Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string path, object body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: ContractServer.Json) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, key);
        }

        return client.SendAsync(request);
    }

    /// <summary>The kinds of the room's notices in its audit trail, oldest first.</summary>
    private async Task<List<string>> NoticeKindsAsync(TestRoom room)
    {
        var page = await Server.Api.GetFromJsonAsync<JsonElement>($"/api/rooms/{room.Id}/events?from=1&limit=100");
        return [.. page.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == RoomEventTypes.Notice)
            .Select(e => e.GetProperty("kind").GetString()!)];
    }
}
