using System.Text.Json;
using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Redis;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// Each rule lives once in Rooms/ and the edges call it, so a client reads the same refusal whether
/// it came through the hub, the HTTP API or a Redis key (the room-id rule once had two wordings).
/// </summary>
public sealed class OneWordingPerRuleTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void AnInvalidRoomIdIsRefusedInOneWordingByTheHubTheApiAndTheRedisKeys() =>
        Refusals(
            () => HubArguments.RoomId(Json("\"a:b\"")),
            () => HubArguments.RoomId(Json("42")),
            () => RoomIds.RequireRoomId("a:b"),
            () => RedisKeys.ForRoom("a:b"))
        .Should().Equal("invalid_argument: roomId must be 1-64 characters of A-Z a-z 0-9 _ -");

    [Fact]
    public void AnInvalidMemberIdIsRefusedInOneWordingByTheHubAndTheApi() =>
        Refusals(
            () => HubArguments.MemberId(Json("\"a:b\"")),
            () => RoomRequests.ValidateToken(new TokenRequest("a:b", "Ann", "member")),
            () => RoomIds.RequireMemberId("a:b"))
        .Should().Equal("invalid_argument: memberId must be 1-64 characters of A-Z a-z 0-9 _ . @ -, not \".\" or \"..\"");

    [Fact]
    public void AStateNoOneMaySetIsRefusedInOneWordingByTheHubAndTheApi() =>
        Refusals(
            () => HubArguments.State(Json("\"deleted\"")),
            () => RoomRequests.ValidateState(new StateRequest("deleted")))
        .Should().Equal("invalid_argument: state must be 'open', 'locked' or 'closed'");

    /// <summary>The distinct refusals (code: message) of the given checks.</summary>
    private static IEnumerable<string> Refusals(params Action[] checks) =>
        checks.Select(check => check.Should().Throw<RoomException>().Which).Select(e => $"{e.Code}: {e.Message}").Distinct();
}
