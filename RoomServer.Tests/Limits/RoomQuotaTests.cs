using System.Net;
using System.Net.Http.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

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
        (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.RateLimited);
        (await server.CreateRoomAsync()).Id.Should().NotBeNullOrEmpty("another key's rooms are counted apart");

        (await quota.DeleteAsync($"/api/rooms/{rooms[0]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var again = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        again.StatusCode.Should().Be(HttpStatusCode.Created, "a deleted room no longer counts against its key");
        using var full = await quota.PostAsJsonAsync("/api/rooms", body, ContractServer.Json);
        full.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "the freed place is taken again");
    }
}

[Trait("Suite", "Limits")]
public sealed class EmbeddedRoomQuotaTests(EmbeddedRoomQuotaServer server)
    : RoomQuotaTests(server), IClassFixture<EmbeddedRoomQuotaServer>;

[Trait("Suite", "Limits")]
public sealed class RedisRoomQuotaTests(RedisRoomQuotaServer server)
    : RoomQuotaTests(server), IClassFixture<RedisRoomQuotaServer>;
