using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// Ids built to break out of a Redis key, hash field or channel (<c>*</c>, braces, <c>:</c>, spaces,
/// newlines, very long, non-ASCII) are refused with a §5 code at every entry point — HTTP routes, token
/// issue, a new room's menu, hub arguments, token claims — before any key or channel is built. In Redis
/// mode the server then holds only keys and channels of the documented shapes.
/// </summary>
public abstract partial class RoomContractTests
{
    /// <summary>
    /// No "..": the HTTP client itself would resolve it as a dot segment before sending. No NUL: Kestrel
    /// refuses a path with %00 itself, before the app (a bare 400 no middleware sees); hub arguments
    /// carry it (<see cref="HostileHubIds"/>).
    /// </summary>
    public static TheoryData<string> HostileIds => new(HttpHostileIds);

    public static TheoryData<string> HostileHubIds => new([.. HttpHostileIds, "a\u0000b", ".."]);

    private static readonly string[] HttpHostileIds =
    [
        "*", "room*", "{x}", "a}b", "a{b", "{", "}", "a:b", ":", "a b", " ", "a\nb", "a\r\nSET x 1", "a\tb",
        "a\n", // a trailing newline: .NET's "$" matches before one, so an id rule anchored with it let it through
        new string('a', RoomIds.MaxLength + 1), new string('x', 2000), "é", "日本", "😀", "a%2Fb", "a?b", "a#b",
    ];

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task AHostileIdInAnApiRouteIsRefusedWithACode(string id)
    {
        var room = await Server.CreateRoomAsync();
        var escaped = Uri.EscapeDataString(id);
        var calls = new List<(string Call, HttpResponseMessage Response)>
        {
            ("GET room", await Server.Api.GetAsync($"/api/rooms/{escaped}")),
            ("POST tokens", await Server.Api.PostAsJsonAsync($"/api/rooms/{escaped}/tokens", new { memberId = "ann", displayName = "Ann", role = "member" })),
            ("POST notices", await Server.Api.PostAsJsonAsync($"/api/rooms/{escaped}/notices", new { kind = "k", payload = 1 })),
            ("PUT state", await Server.Api.PutAsJsonAsync($"/api/rooms/{escaped}/state", new { state = "locked" })),
            ("DELETE room", await Server.Api.DeleteAsync($"/api/rooms/{escaped}")),
            ("DELETE member (room)", await Server.Api.DeleteAsync($"/api/rooms/{escaped}/members/ann")),
            ("DELETE member (member)", await Server.Api.DeleteAsync($"/api/rooms/{room.Id}/members/{escaped}")),
            ("POST tokens (member)", await Server.Api.PostAsJsonAsync($"/api/rooms/{room.Id}/tokens", new { memberId = id, displayName = "Ann", role = "member" })),
            ("POST rooms (menu id)", await Server.Api.PostAsJsonAsync("/api/rooms", new { name = "T", menu = new[] { new { id, name = "Dish", priceMinor = 100 } } })),
        };

        foreach (var (call, response) in calls)
        {
            using var _ = response;
            ((int)response.StatusCode).Should().BeOneOf([400, 404], $"{call} with id {Describe(id)}");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json", call);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
            problem.Code.Should().BeOneOf([RoomErrorCodes.InvalidArgument, RoomErrorCodes.RoomNotFound], call);
        }

        (await Server.SnapshotAsync(room)).Version.Should().Be(0, "nothing reached the room");
        await AssertOnlyDocumentedKeysAndChannelsAsync();
    }

    [Theory]
    [MemberData(nameof(HostileHubIds))]
    public async Task AHostileIdInAHubArgumentIsRefusedWithACode(string id)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;

        (await owner.Client.RejectedCodeAsync("Join", id, null)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await owner.Client.RejectedCodeAsync("SetChoice", room.Id, id, 1, null)).Should().Be(RoomErrorCodes.UnknownMenuItem);
        (await owner.Client.RejectedCodeAsync("AdjustChoice", room.Id, id, 1, null)).Should().Be(RoomErrorCodes.UnknownMenuItem);
        (await owner.Client.RejectedCodeAsync("RemoveMember", room.Id, id)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await owner.Client.RejectedCodeAsync("Refresh", id)).Should().Be(RoomErrorCodes.InvalidArgument);

        await AssertNothingChangedAsync(room, owner, 1);
        await AssertOnlyDocumentedKeysAndChannelsAsync();
    }

    [Theory]
    [InlineData("a}b", "ann")]
    [InlineData("room*", "ann")]
    [InlineData("ROOM", "a:b")]
    [InlineData("ROOM", "a\nb")]
    [InlineData("ROOM", "*")]
    public async Task ASignedTokenWithHostileClaimsGetsNoRoom(string roomClaim, string memberClaim)
    {
        var room = await Server.CreateRoomAsync();
        var roomId = roomClaim == "ROOM" ? room.Id : roomClaim;

        // No connection at all: a hub connection needs valid room and member ids to count against
        // its member's limits (401 before it starts).
        var token = TestTokens.Mint(Server.SigningKey, roomId, memberClaim, "Eve");
        var connect = () => Server.ConnectAsync(token);
        (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);

        // Nor a read: such a token is a bad token (401), not one for another room (403).
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        read.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Server.Anonymous.SendAsync(read);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
        await AssertOnlyDocumentedKeysAndChannelsAsync();
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("")]
    [InlineData("Owner")]
    public async Task ASignedTokenWithoutAMemberOrOwnerRoleGetsNoConnectionAndNoRead(string role)
    {
        var room = await Server.CreateRoomAsync();
        var token = TestTokens.Mint(Server.SigningKey, room.Id, "eve", "Eve", role: role);

        // Every hub call would refuse it: refused at the connect (401), not left open holding one of the member's places.
        var connect = () => Server.ConnectAsync(token);
        (await connect.Should().ThrowAsync<HubConnectException>()).Which.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);

        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        read.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Server.Anonymous.SendAsync(read);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized, "nor does it read the room");
        (await Server.SnapshotAsync(room)).Members.Should().BeEmpty();
    }

    /// <summary>
    /// Redis mode: every key and channel has a documented shape around a valid id (embedded: nothing to
    /// check). Besides the rooms' channels: SignalR's backplane (<c>rs-signalr*</c>), each replica's
    /// heartbeat (<c>rs-heartbeat:{replica}:{nonce}</c>, from configuration, never from a request), the
    /// removal broadcast (<c>rs-removals</c>, a fixed name) and the Redis client's own <c>__Booksleeve_MasterChanged</c>.
    /// </summary>
    private async Task AssertOnlyDocumentedKeysAndChannelsAsync()
    {
        if (Server is not RedisContractServer redis)
        {
            return;
        }

        var keys = await redis.Redis.ExecuteListAsync("KEYS", "*");
        keys.Should().OnlyContain(
            k => k != null && (RoomKey().IsMatch(k) || ApiKeyRoomsKey().IsMatch(k) || OrderIndexKey().IsMatch(k)
                || NoticeIdempotencyKey().IsMatch(k) || ApiKeyIdempotencyKey().IsMatch(k) || ReplicaHolderKey().IsMatch(k)),
            "every key is built from a validated id: " + string.Join(", ", keys.Select(k => Describe(k ?? "(nil)"))));
        var channels = await redis.Redis.ExecuteListAsync("PUBSUB", "CHANNELS", "*");
        channels.Should().OnlyContain(
            c => c != null && (RoomChannel().IsMatch(c) || c.StartsWith("rs-signalr", StringComparison.Ordinal)
                || c.StartsWith("rs-heartbeat:", StringComparison.Ordinal) || c == "rs-removals" || c == "__Booksleeve_MasterChanged"),
            "every channel is built from a validated id");
    }

    private static string Describe(string id) =>
        id.Length > 40 ? $"({id.Length} chars)" : JsonEscaped(id);

    private static string JsonEscaped(string id) => System.Text.Json.JsonSerializer.Serialize(id);

    [GeneratedRegex(@"^rs:\{[A-Za-z0-9_-]{1,64}\}:(meta|choices|members|history|presence|ops|oplog|audit|rate|orders|deliveries|requeued|discarded|created|deleting)$")]
    private static partial Regex RoomKey();

    // A replica's hold on its ReplicaId (ReplicaIdGuard): from configuration, never from a request.
    [GeneratedRegex(@"^rs:replica:[^:]+$")]
    private static partial Regex ReplicaHolderKey();

    [GeneratedRegex(@"^rs:orders:(rooms|deadletters)$")]
    private static partial Regex OrderIndexKey();

    [GeneratedRegex(@"^rs:key:\{[0-9a-f]{16}\}:rooms$")]
    private static partial Regex ApiKeyRoomsKey();

    [GeneratedRegex(@"^rs:\{[A-Za-z0-9_-]{1,64}\}:notice:[0-9a-f]{16}:[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NoticeIdempotencyKey();

    [GeneratedRegex(@"^rs:key:\{[0-9a-f]{16}\}:idem:(rooms|announcements):[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ApiKeyIdempotencyKey();

    [GeneratedRegex(@"^rs:\{[A-Za-z0-9_-]{1,64}\}:events$")]
    private static partial Regex RoomChannel();
}
