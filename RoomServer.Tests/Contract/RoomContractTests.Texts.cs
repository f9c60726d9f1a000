using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The texts the HTTP API takes (DESIGN §4) — a room's name, a menu item's name, a display name, a notice's or an
/// announcement's kind, an announcement's message — are trimmed of whitespace at their ends and kept trimmed; one
/// blank or holding a control character or a line break (U+2028 and U+2029 too) is 400 <c>invalid_argument</c> and
/// applies nothing; a length limit counts the
/// trimmed text.
/// </summary>
public abstract partial class RoomContractTests
{
    /// <summary>A route, a body whose text is blank or holds a control character (JSON escapes), and the field the refusal names.</summary>
    public static TheoryData<string, string, string> TextsBlankOrWithAControlCharacter => new()
    {
        { "/api/rooms", """{"name":"Table\u00077","menu":[{"id":"cola","name":"Cola","priceMinor":300}]}""", "name" },
        { "/api/rooms", """{"name":"Table 7","menu":[{"id":"cola","name":"Co\nla","priceMinor":300}]}""", "menu[0].name" },
        { "/api/rooms", """{"name":"Table 7","menu":[{"id":"cola","name":" \u3000 ","priceMinor":300}]}""", "menu[0].name" },
        { "/api/rooms/{roomId}/tokens", """{"memberId":"bob","displayName":"   "}""", "displayName" },
        { "/api/rooms/{roomId}/tokens", """{"memberId":"bob","displayName":"B\u0007ob"}""", "displayName" },
        { "/api/rooms/{roomId}/notices", """{"kind":"   ","payload":1}""", "kind" },
        { "/api/rooms/{roomId}/notices", """{"kind":"e\u0000ta","payload":1}""", "kind" },
        { "/api/announcements", """{"kind":"in\u001bfo","message":"Back soon"}""", "kind" },
        { "/api/announcements", """{"kind":"info","message":"first line\nsecond line"}""", "message" },
        { "/api/announcements", """{"kind":"info","message":"Back\u0085soon"}""", "message" },
        { "/api/announcements", """{"kind":"info","message":"Back\u007fsoon"}""", "message" },
        { "/api/announcements", """{"kind":"info","message":"first line\u2028second line"}""", "message" },
        { "/api/rooms/{roomId}/tokens", """{"memberId":"bob","displayName":"B\u2029ob"}""", "displayName" },
    };

    [Theory]
    [MemberData(nameof(TextsBlankOrWithAControlCharacter))]
    public async Task ATextThatIsBlankOrHoldsAControlCharacterIs400AndAppliesNothing(string route, string body, string field)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        using var response = await Server.Api.PostAsync(
            route.Replace("{roomId}", room.Id, StringComparison.Ordinal), new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        problem.Detail.Should().StartWith(field + " ", "the refusal names the field it is for");
        await AssertNothingChangedAsync(room, ann, 1);
        (await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = "barrier" })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("message").GetString().Should().Be("barrier", "the refused request announced nothing");
    }

    [Fact]
    public async Task ARoomsNameAndItsMenuItemsNamesAreKeptTrimmed()
    {
        using var response = await Server.Api.PostAsJsonAsync("/api/rooms", new
        {
            name = "  Table 7  ",
            menu = new[] { new { id = "pizza", name = " Margherita ", priceMinor = 1150 }, new { id = "cola", name = "Cola", priceMinor = 300 } },
        });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var created = (await response.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        var room = new TestRoom(created.RoomId, created.Epoch);
        await using var ann = await Server.JoinAsync(room, "ann");

        foreach (var (source, snapshot) in new[] { ("GET /api/rooms/{id}", await Server.SnapshotAsync(room)), ("Join", ann.Joined.Snapshot!) })
        {
            snapshot.Name.Should().Be("Table 7", $"{source}: what is kept is the trimmed name");
            snapshot.Menu.Select(m => m.Name).Should().Equal(["Margherita", "Cola"], $"{source}: what is kept is the trimmed item name");
        }
    }

    [Fact]
    public async Task ADisplayNameIsKeptTrimmedInTheSnapshotEventsAndPresence()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        await using var bob = await Server.ConnectAsync(await Server.TokenAsync(room, "bob", displayName: "  Bob  "));
        var joined = await bob.InvokeAsync<JoinResult>("Join", room.Id, null);

        joined.Snapshot!.Members.Should().ContainEquivalentOf(new { MemberId = "bob", DisplayName = "Bob" }, "what is kept is the trimmed display name");
        (await ann.Client.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Member, MemberId = "bob", DisplayName = "Bob" });
        (await ann.Client.NextPresenceAsync(p => p.MemberId == "bob" && p.Online)).DisplayName.Should().Be("Bob");
        (await Server.SnapshotAsync(room)).Members.Should().ContainEquivalentOf(new { MemberId = "bob", DisplayName = "Bob" });
    }

    [Fact]
    public async Task ANoticesKindIsKeptTrimmed()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = "  eta  ", payload = 5 })).StatusCode.Should().Be(HttpStatusCode.Accepted);

        (await ann.Client.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Notice, Kind = "eta" }, "what is kept is the trimmed kind");
        (await NoticeKindsAsync(room)).Should().Equal(["eta"], "the audit trail keeps the trimmed kind");
    }

    [Fact]
    public async Task AnAnnouncementsKindAndMessageAreDeliveredTrimmed()
    {
        var (_, ann) = await RoomWithMemberAsync();
        await using var __ = ann;

        (await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "  maintenance ", message = "   Back in 5 minutes  " }))
            .StatusCode.Should().Be(HttpStatusCode.Accepted);

        var announcement = (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).Deserialize<Announcement>(ContractServer.Json)!;
        announcement.Should().BeEquivalentTo(new { Kind = "maintenance", Message = "Back in 5 minutes" }, "what is kept is the trimmed text");
    }

    /// <summary>
    /// <c>MaxAnnouncementLength</c> counts the trimmed message: one of exactly the limit with spaces around it is taken
    /// and delivered trimmed; one of the limit and one more, however it is padded, is 413 <c>payload_too_large</c>.
    /// </summary>
    [Fact]
    public async Task AnAnnouncementsLengthLimitCountsItsTrimmedMessage()
    {
        var (_, ann) = await RoomWithMemberAsync();
        await using var __ = ann;
        var limit = new RoomServerOptions().Limits.MaxAnnouncementLength;

        using var over = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = " " + new string('y', limit + 1) + " " });
        using var atTheLimit = await Server.Api.PostAsJsonAsync("/api/announcements", new { kind = "info", message = "  " + new string('x', limit) + "  " });

        (await over.Content.ReadFromJsonAsync<ProblemBody>()).Should().BeEquivalentTo(new { Code = RoomErrorCodes.PayloadTooLarge, Status = 413 });
        atTheLimit.StatusCode.Should().Be(HttpStatusCode.Accepted, $"trimmed, the message is {limit} characters: the limit");
        (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("message").GetString()
            .Should().Be(new string('x', limit), "the first announcement delivered is the trimmed one at the limit (the longer one sent nothing)");
    }

    /// <summary>
    /// The other texts' limits (name and menu item name 100, display name 50, kind 64) count the trimmed text too: exactly
    /// the limit with spaces around it is taken and kept trimmed, one more is 400 <c>invalid_argument</c>.
    /// </summary>
    [Theory]
    [InlineData("name", RoomRequests.MaxNameLength)]
    [InlineData("menu[0].name", RoomRequests.MaxNameLength)]
    [InlineData("displayName", RoomRequests.MaxDisplayNameLength)]
    [InlineData("notice kind", RoomRequests.MaxKindLength)]
    [InlineData("announcement kind", RoomRequests.MaxKindLength)]
    public async Task ATextsLengthLimitCountsItsTrimmedText(string field, int limit)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var atTheLimit = new string('t', limit);

        using var over = await PostTextAsync(room, field, " " + new string('t', limit + 1) + " ");
        using var taken = await PostTextAsync(room, field, "  " + atTheLimit + "  ");

        over.StatusCode.Should().Be(HttpStatusCode.BadRequest, $"trimmed, the {field} is one past its limit of {limit}");
        (await over.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        taken.IsSuccessStatusCode.Should().BeTrue($"trimmed, the {field} is {limit} characters, its limit (answered {(int)taken.StatusCode})");
        var kept = field switch
        {
            "name" => (await CreatedSnapshotAsync(taken)).Name,
            "menu[0].name" => (await CreatedSnapshotAsync(taken)).Menu[0].Name,
            "displayName" => (await JoinWithTokenAsync(room, taken)).Snapshot!.Members.Single(m => m.MemberId == "bob").DisplayName,
            "notice kind" => (await ann.Client.NextEventShouldBeAsync(2)).Kind,
            _ => (await ann.Client.NextAsync("Announcement", TimeSpan.FromSeconds(5))).GetProperty("kind").GetString(),
        };
        kept.Should().Be(atTheLimit, "what is kept is the trimmed text");
    }

    private Task<HttpResponseMessage> PostTextAsync(TestRoom room, string field, string text) => field switch
    {
        "name" => Server.Api.PostAsJsonAsync("/api/rooms", new { name = text, menu = ContractServer.Menu }),
        "menu[0].name" => Server.Api.PostAsJsonAsync("/api/rooms", new { name = "Table 7", menu = new[] { new { id = "pizza", name = text, priceMinor = 1150 } } }),
        "displayName" => Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = "bob", displayName = text }),
        "notice kind" => Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/notices", new { kind = text, payload = 1 }),
        _ => Server.Api.PostAsJsonAsync("/api/announcements", new { kind = text, message = "Back soon" }),
    };

    private async Task<RoomSnapshot> CreatedSnapshotAsync(HttpResponseMessage created)
    {
        var room = (await created.Content.ReadFromJsonAsync<RoomCreatedResponse>(ContractServer.Json))!;
        return await Server.SnapshotAsync(new TestRoom(room.RoomId, room.Epoch));
    }

    private async Task<JoinResult> JoinWithTokenAsync(TestRoom room, HttpResponseMessage issued)
    {
        var token = (await issued.Content.ReadFromJsonAsync<TokenResponse>(ContractServer.Json))!.Token;
        await using var client = await Server.ConnectAsync(token);
        return await client.InvokeAsync<JoinResult>("Join", room.Id, null);
    }
}
