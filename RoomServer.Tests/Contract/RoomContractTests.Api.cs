using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    public static TheoryData<string> InvalidRoomBodies => new()
    {
        """{"menu":[{"id":"a","name":"A","priceMinor":1}]}""",
        """{"name":"  ","menu":[{"id":"a","name":"A","priceMinor":1}]}""",
        """{"name":"T","menu":[]}""",
        """{"name":"T"}""",
        """{"name":"T","menu":[{"id":"a b","name":"A","priceMinor":1}]}""",
        """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":1},{"id":"a","name":"B","priceMinor":2}]}""",
        """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":-1}]}""",
        """{"name":"T","menu":[{"id":"a","name":"A"}]}""",
        """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":"free"}]}""",
        """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":1}],"ttlMinutes":0}""",
        """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":1}""",
        "",
        "[]",
    };

    [Theory]
    [MemberData(nameof(InvalidRoomBodies))]
    public async Task CreatingARoomWithAnInvalidBodyIsA400InvalidArgument(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await Server.Api.PostAsync("/api/rooms", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument");
    }

    [Fact]
    public async Task CreatingARoomReturns201WithIdEpochAndLocation()
    {
        var response = await Server.Api.PostAsJsonAsync("/api/rooms", new { name = "Table 9", menu = ContractServer.Menu });

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var created = (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>())!;
        response.Headers.Location!.ToString().Should().Be($"/api/rooms/{created.RoomId}");
        created.Epoch.Should().NotBeNullOrEmpty();
        var snapshot = await Server.SnapshotAsync(new TestRoom(created.RoomId, created.Epoch));
        snapshot.Should().BeEquivalentTo(new { Name = "Table 9", Version = 0L, State = "open", Epoch = created.Epoch });
    }

    [Theory]
    [InlineData("""{"memberId":"has:colon","displayName":"A","role":"member"}""")]
    [InlineData("""{"memberId":"ann","displayName":"","role":"member"}""")]
    [InlineData("""{"memberId":"ann","displayName":"A","role":"admin"}""")]
    [InlineData("""{"memberId":"api","displayName":"A","role":"owner"}""")]
    public async Task AnInvalidTokenRequestIsA400(string body)
    {
        var room = await Server.CreateRoomAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        var response = await Server.Api.PostAsync($"/api/rooms/{room.Id}/tokens", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument");
    }

    /// <summary>Events name the HTTP API as <c>by: "api"</c>: no member may take that id, and the refusal says why.</summary>
    [Fact]
    public async Task TheMemberIdApiIsReservedForTheHttpApi()
    {
        var room = await Server.CreateRoomAsync();

        var refused = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = "api", displayName = "Api", role = "owner" });
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Detail.Should().Contain("'api' is reserved");

        (await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = "api.user", displayName = "A", role = "member" }))
            .StatusCode.Should().Be(HttpStatusCode.OK, "only the exact id is reserved");

        // A token for it minted before the rule (or elsewhere with the key) opens nothing.
        var minted = TestTokens.Mint(Server.SigningKey, room.Id, "api", "Api", role: "owner");
        var connect = () => Server.ConnectAsync(minted);
        (await connect.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("401");
    }

    [Fact]
    public async Task UnknownRoomsAre404RoomNotFoundEverywhere()
    {
        var responses = new[]
        {
            await Server.Api.GetAsync("/api/rooms/NoSuchRoom"),
            await Server.Api.PostAsJsonAsync("/api/rooms/NoSuchRoom/tokens", new { memberId = "a", displayName = "A", role = "member" }),
            await Server.Api.PostAsJsonAsync("/api/rooms/NoSuchRoom/notices", new { kind = "k", payload = 1 }),
            await Server.Api.PutAsJsonAsync("/api/rooms/NoSuchRoom/state", new { state = "locked" }),
            await Server.Api.DeleteAsync("/api/rooms/NoSuchRoom"),
        };

        foreach (var response in responses)
        {
            response.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("room_not_found");
        }
    }

    [Fact]
    public async Task ANoticeIsDeliveredAsAVersionedEventWithItsPayload()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices",
            new { kind = "eta", payload = new { minutes = 12, note = "kitchen is busy", exact = 12345678901234567 } });

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        var notice = await ann.Client.NextEventShouldBeAsync(2);
        notice.Type.Should().Be(RoomEventTypes.Notice);
        notice.Kind.Should().Be("eta");
        notice.Payload!.Value.GetProperty("minutes").GetInt32().Should().Be(12);
        notice.Payload!.Value.GetProperty("exact").GetInt64().Should().Be(12345678901234567, "payload numbers pass through untouched");
    }

    /// <summary>
    /// A closed room is final and read only (DESIGN.md §3): a notice is refused as <c>Refresh</c> is, with no
    /// event and no version. The room's deletion is the barrier: its last event comes straight after the close.
    /// </summary>
    [Fact]
    public async Task ANoticeToAClosedRoomIs409RoomClosedAndSendsNothing()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "closed")).Version.Should().Be(2);
        await owner.Client.NextEventShouldBeAsync(2);

        var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "eta", payload = new { minutes = 5 } });

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "room_closed", Status = 409 });
        (await Server.SnapshotAsync(room)).Version.Should().Be(2, "a refused notice changes no version");
        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await owner.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = "state", State = "deleted" }, "the refused notice sent no event");
    }

    /// <summary>A locked room's order was handed off, but the menu app may still tell its members things (an ETA): only closed refuses notices.</summary>
    [Fact]
    public async Task ANoticeToALockedRoomIsStillDelivered()
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;
        (await owner.Client.InvokeAsync<VersionAck>("SetRoomState", room.Id, "locked")).Version.Should().Be(2);
        await owner.Client.NextEventShouldBeAsync(2);

        var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "eta", payload = new { minutes = 5 } });

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await response.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(3);
        (await owner.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Notice, Kind = "eta" });
    }

    [Fact]
    public async Task ABodyOverTheApisSizeLimitIs413PayloadTooLargeWithItsProblem()
    {
        var room = await Server.CreateRoomAsync();
        using var body = new StringContent("{\"kind\":\"k\",\"payload\":\"" + new string('x', 300 * 1024) + "\"}", System.Text.Encoding.UTF8, "application/json");

        var response = await Server.Api.PostAsync($"/api/rooms/{room.Id}/notices", body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = "payload_too_large", Status = 413 });
        (await Server.SnapshotAsync(room)).Version.Should().Be(0, "nothing was published");
    }

    [Fact]
    public async Task AnOversizedNoticeIs413PayloadTooLargeAndSendsNothing()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var response = await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices",
            new { kind = "menu", payload = new string('x', ContractServer.MaxNoticePayloadBytes + 1) });

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("payload_too_large");
        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task PutStateChangesTheStateAsTheApi()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var response = await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "locked" });
        var bad = await Server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "paused" });

        (await response.Content.ReadFromJsonAsync<VersionAck>())!.Version.Should().Be(2);
        (await ann.Client.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = "state", State = "locked", By = "api" });
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Server.SnapshotAsync(room)).Version.Should().Be(2);
    }

    [Fact]
    public async Task DeletingARoomSendsALastDeletedEventThenTheRoomIsGone()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await ann.Client.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = "state", State = "deleted", By = "api" });
        (await Server.Api.GetAsync($"/api/rooms/{room.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ann.Client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("room_not_found");
    }

    /// <summary>DESIGN §4: a ready replica's <c>/readyz</c> is 200 <c>{ status: "ready", replica, reason: null }</c>, <c>replica</c> its configured ReplicaId.</summary>
    [Fact]
    public async Task AReadyReplicasReadinessNamesItselfWithNoReason()
    {
        using var response = await Server.Anonymous.GetAsync("/readyz");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("ready");
        body.GetProperty("replica").GetString().Should().Be(ContractServer.ReplicaId, "the replica is the configured RoomServer:ReplicaId");
        body.TryGetProperty("reason", out var reason).Should().BeTrue("optional fields are present as null (DESIGN §3)");
        reason.ValueKind.Should().Be(JsonValueKind.Null, "nothing is degraded");
    }

    [Fact]
    public async Task HealthReadinessAndTheOpenApiDocumentAreServed()
    {
        (await Server.Anonymous.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Server.Anonymous.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);

        var document = await Server.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/api/rooms", "/api/rooms/{roomId}/tokens", "/api/rooms/{roomId}", "/api/rooms/{roomId}/notices", "/api/rooms/{roomId}/state", "/healthz", "/readyz"]);
    }
}
