using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A member token is checked against the member's removal generation (DESIGN.md §3). When the store
/// cannot answer that lookup, the hub still admits the connection — every room script checks the removal
/// again — but the HTTP API's member reads have no second check: they used to hand the room and its audit
/// trail to whoever held the token, a removed member too. They answer <c>unavailable</c> now.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class RemovalCheckUnavailableTests(RemovalCheckUnavailableTests.FailingLookupServer server)
    : IClassFixture<RemovalCheckUnavailableTests.FailingLookupServer>
{
    [Theory]
    [InlineData("/api/rooms/{room}")]
    [InlineData("/api/rooms/{room}/events")]
    public async Task AMemberReadWhoseRemovalCannotBeCheckedIsUnavailable(string path)
    {
        var room = await server.CreateRoomAsync();
        var token = await server.TokenAsync(room, "bob");
        using var member = new HttpClient { BaseAddress = server.BaseUrl };
        member.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var uri = new Uri(path.Replace("{room}", room.Id, StringComparison.Ordinal), UriKind.Relative);

        (await member.GetAsync(uri)).StatusCode.Should().Be(HttpStatusCode.OK, "the lookup answers: the token is checked and admitted");

        server.Failing = true;
        try
        {
            using var refused = await member.GetAsync(uri);
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a member the store cannot vouch for gets nothing of the room");
            (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.Unavailable);

            // The hub admits (its scripts check the removal themselves), and the API key is no member token.
            await using var connection = await server.ConnectAsync(token);
            (await connection.InvokeAsync<JoinResult>("Join", room.Id, null)).Snapshot.Should().NotBeNull();
            (await server.Api.GetAsync(uri)).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        finally
        {
            server.Failing = false;
        }
    }

    [Fact]
    public async Task OnlyAMemberReadIsRefusedNotAnApiKeyCallerNorAnEndpointThatReadsNoRoom()
    {
        var room = await server.CreateRoomAsync();
        using var both = new HttpClient { BaseAddress = server.BaseUrl };
        both.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await server.TokenAsync(room, "bob"));

        server.Failing = true;
        try
        {
            (await both.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK, "health reads no room");
            both.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
            (await both.GetAsync(new Uri($"/api/rooms/{room.Id}/events", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK, "the API key reads the room whoever the token names");
        }
        finally
        {
            server.Failing = false;
        }
    }

    /// <summary>Embedded mode whose removal-generation lookup fails (as when Redis is away) while <see cref="FailingStoreServer.Failing"/> is set.</summary>
    public sealed class FailingLookupServer : FailingStoreServer
    {
        protected override string FailingMethod => nameof(IRoomStore.RemovalGenerationAsync);

        protected override object Failure() => Task.FromException<long>(RoomException.Unavailable("the store is away (test)"));
    }
}
