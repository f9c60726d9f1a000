using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    [Theory]
    [InlineData("SetChoice", "sushi", 1, "unknown_menu_item")]
    [InlineData("SetChoice", "not a menu id!", 1, "unknown_menu_item")]
    [InlineData("SetChoice", "pizza", -1, "invalid_quantity")]
    [InlineData("SetChoice", "pizza", 100, "invalid_quantity")]
    [InlineData("AdjustChoice", "sushi", 1, "unknown_menu_item")]
    public async Task ABadChoiceIsRejectedWithItsCodeAndChangesNothing(string method, string menuId, int quantity, string code)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.RejectedCodeAsync(method, room.Id, menuId, quantity, null)).Should().Be(code);

        (await Server.SnapshotAsync(room)).Choices.Should().BeEmpty();
        await AssertNothingChangedAsync(room, ann, 1);
    }

    public static TheoryData<string, object?[], string> MalformedArguments => new()
    {
        { "SetChoice", ["pizza", "two", null], "invalid_argument" },
        { "SetChoice", ["pizza", 2.5, null], "invalid_quantity" },
        { "SetChoice", ["pizza", 1e12, null], "invalid_quantity" },
        { "SetChoice", [42, 1, null], "invalid_argument" },
        { "SetChoice", ["pizza", 1, 17], "invalid_argument" },
        { "SetChoice", ["pizza", 1, "has space"], "invalid_argument" },
        { "SetChoice", ["pizza", 1, "op\n"], "invalid_argument" }, // not printable ASCII, though the last character
        { "AdjustChoice", ["pizza", null, null], "invalid_argument" },
        { "SetRoomState", ["deleted"], "invalid_argument" },
        { "Join", [new { epoch = 5, version = 1 }], "invalid_argument" },
        { "Join", [new { epoch = "e", version = -1 }], "invalid_argument" },
    };

    [Theory]
    [MemberData(nameof(MalformedArguments))]
    public async Task MalformedArgumentsAreRejectedWithACodeAndTheConnectionSurvives(string method, object?[] rest, string code)
    {
        var (room, owner) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = owner;

        (await owner.Client.RejectedCodeAsync(method, [room.Id, .. rest])).Should().Be(code);

        await AssertNothingChangedAsync(room, owner, 1);
    }

    /// <summary>
    /// Calls SignalR itself cannot bind (they never reach the hub's filter) still carry a §5 code: a
    /// missing optional argument, one too many, a method that does not exist — over JSON and MessagePack.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACallSignalRCannotBindIsAnInvalidArgumentAndTheConnectionSurvives(bool messagePack)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bob = await HubTestClient.ConnectAsync(Server.BaseUrl, await Server.TokenAsync(room, "bob"), o => o.MessagePack = messagePack);
        await bob.InvokeAsync("Join", room.Id, null);
        await ann.Client.NextEventShouldBeAsync(2);

        var missingOpId = await RejectionAsync(bob, "SetChoice", room.Id, "pizza", 2);
        missingOpId.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        missingOpId.ErrorText.Should().Contain("SetChoice").And.Contain("3 argument(s)").And.Contain("expects 4");

        (await RejectionAsync(bob, "Join", room.Id, null, "extra")).Code.Should().Be(RoomErrorCodes.InvalidArgument);

        var unknown = await RejectionAsync(bob, "PlaceOrder", room.Id);
        unknown.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        unknown.ErrorText.Should().Contain("PlaceOrder").And.Contain("Method does not exist");

        var longName = new string('x', 5_000);
        var tooLong = await RejectionAsync(bob, longName);
        tooLong.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        tooLong.Message.Length.Should().BeLessThan(500, "the client's method name is not echoed at any length, SignalR's prefix included");

        (await bob.SetChoiceAsync(room, "pizza", 2, null)).Version.Should().Be(3, "the connection survives and nothing was applied");
        await ann.Client.NextEventShouldBeAsync(3);
        await AssertNothingChangedAsync(room, ann, 3);
    }

    /// <summary>Shapes SignalR refuses before the hub's filters, with no code: no hub method streams, in or out.</summary>
    [Theory]
    [InlineData("Join", "{\"type\":4,\"invocationId\":\"{id}\",\"target\":\"Join\",\"arguments\":[{room},null]}")]
    [InlineData("Leave", "{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Leave\",\"arguments\":[{room}],\"streamIds\":[\"s1\"]}")]
    public async Task AStreamingCallIsAnInvalidArgumentAndTheConnectionSurvives(string method, string message)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "bob"));
        await raw.InvokeAsync("Join", room.Id, null);
        await ann.Client.NextEventShouldBeAsync(2);

        var call = () => raw.InvokeRawMessageAsync(method, message.Replace("{room}", "\"" + room.Id + "\"", StringComparison.Ordinal));
        var refused = (await call.Should().ThrowAsync<HubErrorException>()).Which;
        refused.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        refused.ErrorText.Should().Contain("stream");

        raw.Closed.IsCompleted.Should().BeFalse("a refused call leaves the connection open");
        await raw.InvokeAsync("Join", room.Id, null);
        await AssertNothingChangedAsync(room, ann, 2);
    }

    private static async Task<HubErrorException> RejectionAsync(HubTestClient client, string method, params object?[] args)
    {
        var act = () => client.InvokeAsync(method, args);
        return (await act.Should().ThrowAsync<HubErrorException>($"{method} must be rejected")).Which;
    }

    [Theory]
    [InlineData("Join")]
    [InlineData("SetChoice")]
    [InlineData("Refresh")]
    [InlineData("Leave")]
    public async Task ARoomIdThatIsNotTheTokensRoomIsForbidden(string method)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var other = await Server.CreateRoomAsync();
        object?[] args = method switch
        {
            "Join" => [other.Id, null],
            "SetChoice" => [other.Id, "pizza", 1, null],
            _ => [other.Id],
        };

        (await ann.Client.RejectedCodeAsync(method, args)).Should().Be("forbidden");

        (await Server.SnapshotAsync(other)).Version.Should().Be(0);
        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task AMalformedRoomIdIsAnInvalidArgument()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        (await ann.Client.RejectedCodeAsync("SetChoice", "../etc", "pizza", 1, null)).Should().Be("invalid_argument");
        (await ann.Client.RejectedCodeAsync("Join", "", null)).Should().Be("invalid_argument");
        await AssertNothingChangedAsync(room, ann, 1);
    }

    [Fact]
    public async Task JoiningADeletedRoomIsRoomNotFound()
    {
        var room = await Server.CreateRoomAsync();
        var token = await Server.TokenAsync(room, "ann");
        (await Server.Api.DeleteAsync($"/api/rooms/{room.Id}")).EnsureSuccessStatusCode();
        await using var client = await Server.ConnectAsync(token);

        (await client.RejectedCodeAsync("Join", room.Id, null)).Should().Be("room_not_found");
        (await client.RejectedCodeAsync("SetChoice", room.Id, "pizza", 1, null)).Should().Be("invalid_argument", "not joined");
    }

    [Fact]
    public async Task TooManyCallsAreRateLimitedAndTheConnectionSurvives()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        var before = (await Server.SnapshotAsync(room)).Version;

        // A connection's calls are dispatched one at a time, and the budget is taken before the method runs.
        // Calls the method refuses at once (a quantity out of range: no store round trip) meet it even on a busy
        // box; calls that each waited for Redis could pass one by one at its refill rate (100 a second).
        var calls = Enumerable.Range(0, ContractServer.HubCallsPerSecond * 5)
            .Select(async _ =>
            {
                try
                {
                    await ann.Client.InvokeAsync("SetChoice", room.Id, "pizza", -1, null);
                    return "ok";
                }
                catch (Infrastructure.HubErrorException e)
                {
                    // The message names the limit (DESIGN §5).
                    return e.Code == "rate_limited" && !e.Message.Contains($"at most {ContractServer.HubCallsPerSecond} a second", StringComparison.Ordinal)
                        ? "rate_limited without naming its limit: " + e.Message
                        : e.Code;
                }
            })
            .ToList();
        var outcomes = await Task.WhenAll(calls);

        outcomes.Should().Contain(RoomErrorCodes.RateLimited).And.Contain(RoomErrorCodes.InvalidQuantity, "calls within the budget reach the method")
            .And.OnlyContain(o => o == RoomErrorCodes.RateLimited || o == RoomErrorCodes.InvalidQuantity);
        ann.Client.Closed.IsCompleted.Should().BeFalse("rate limiting does not close the connection");
        (await Server.SnapshotAsync(room)).Version.Should().Be(before, "the rejected calls changed nothing");

        // Once the budget has refilled, the same connection's calls are taken again.
        var accepted = await Poll.ForAsync(
            async () =>
            {
                try
                {
                    return await ann.Client.SetChoiceAsync(room, "pizza", 1);
                }
                catch (Infrastructure.HubErrorException e) when (e.Code == RoomErrorCodes.RateLimited)
                {
                    await Task.Delay(100);
                    return null;
                }
            },
            ack => ack is not null,
            TimeSpan.FromSeconds(10),
            _ => "a call is taken again");
        accepted!.Version.Should().Be(before + 1);
    }

    [Fact]
    public async Task AnOversizedMessageClosesTheConnection()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;

        var huge = new string('x', 64 * 1024);
        var doomed = ann.Client.InvokeAsync("SetChoice", room.Id, huge, 1, null);

        await ann.Client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await doomed.Invoking(t => t).Should().ThrowAsync<Exception>("the call dies with its connection");
        (await Server.SnapshotAsync(room)).Version.Should().Be(1);
    }

    [Fact]
    public async Task AMalformedFrameClosesTheConnection()
    {
        // The official client never sends a malformed frame; the raw one joins and then does.
        var room = await Server.CreateRoomAsync();
        await using var ann = await Server.ConnectRawAsync(await Server.TokenAsync(room, "ann"));
        (await ann.InvokeAsync<Rooms.JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(1);

        await ann.SendRawAsync("{ this is not json \u001e");

        await ann.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        (await Server.SnapshotAsync(room)).Version.Should().Be(1);
    }
}
