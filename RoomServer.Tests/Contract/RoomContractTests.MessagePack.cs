using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    /// <summary>
    /// The MessagePack hub protocol (the official package) is offered beside JSON with the same
    /// contract: a MessagePack member and a JSON member share a room, each sees the other's change as
    /// the same camelCase event, results carry the same fields (a <c>Position</c>'s: <see cref="MembersNoEventReachedAreSentTheRoomsPositionPeriodically"/>),
    /// and bad arguments get the same §5 codes.
    /// </summary>
    [Fact]
    public async Task AMessagePackMemberAndAJsonMemberShareOneContract()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bin = await HubTestClient.ConnectAsync(Server.BaseUrl, await Server.TokenAsync(room, "bin"), o => o.MessagePack = true);

        var joined = await bin.InvokeAsync<JoinResult>("Join", room.Id, null);
        joined.Position.Should().BeEquivalentTo(new RoomPosition(room.Epoch, 2));
        joined.Snapshot!.Menu.Should().BeEquivalentTo(ContractServer.Menu);
        await ann.Client.NextEventShouldBeAsync(2);
        (await bin.NextEventShouldBeAsync(2)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Member, MemberId = "bin" });

        var ack = await bin.SetChoiceAsync(room, "pasta", 2, "bin-1");
        ack.Should().BeEquivalentTo(new { Version = 3L, Quantity = 2 });
        (await ann.Client.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "bin", MenuId = "pasta", Quantity = 2, OpId = "bin-1" });
        (await bin.NextEventShouldBeAsync(3)).Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "bin", MenuId = "pasta", Quantity = 2 });

        await ann.Client.SetChoiceAsync(room, "pizza", 1);
        await ann.Client.NextEventShouldBeAsync(4);
        var fromJson = await bin.NextEventShouldBeAsync(4);
        fromJson.Should().BeEquivalentTo(new { Type = RoomEventTypes.Choice, MemberId = "ann", MenuId = "pizza", Quantity = 1 });
        fromJson.At.Should().NotBe(default);

        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", ContractServer.MaxQuantity + 1, null)).Should().Be(RoomErrorCodes.InvalidQuantity);
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", "two", null)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "pasta", 2.0, null)).Should().Be(RoomErrorCodes.InvalidQuantity, "a float, as JSON's 2.0 is");
        (await bin.RejectedCodeAsync("SetChoice", room.Id, "sushi", 1, null)).Should().Be(RoomErrorCodes.UnknownMenuItem);
        (await bin.RejectedCodeAsync("Join", new Dictionary<string, object> { ["nested"] = "room" }, null)).Should().Be(RoomErrorCodes.InvalidArgument);

        // Binary is no shape of the contract: not read as null, which is a valid opId ("none": a retry would apply twice).
        (await bin.RejectedCodeAsync("AdjustChoice", room.Id, "pasta", 1, new byte[] { 0x6f, 0x70 })).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.RejectedCodeAsync("Join", room.Id, new byte[] { 1 })).Should().Be(RoomErrorCodes.InvalidArgument);

        await AssertNothingChangedAsync(room, ann, 4);
    }

    /// <summary>
    /// A MessagePack argument nested deeper than the reader takes, at its limit and past it, is an invalid_argument
    /// like any other wrong shape, and the connection goes on (DESIGN.md §5): a hostile frame must neither recurse the
    /// server off its stack nor close the connection. Around the reader's own limit (64) and far past it.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(66)]
    [InlineData(500)]
    public async Task AMessagePackArgumentNestedTooDeepIsAnInvalidArgumentAndTheConnectionGoesOn(int depth)
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bin = await HubTestClient.ConnectAsync(Server.BaseUrl, await Server.TokenAsync(room, "bin"), o => o.MessagePack = true);

        // Arrays of one element, nested: [[[...nil...]]].
        var nested = new RawMessagePack([.. Enumerable.Repeat((byte)0x91, depth), 0xc0]);
        (await bin.RejectedCodeAsync("Join", room.Id, nested)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Epoch.Should().Be(room.Epoch, "the connection is still open and serves the next call");
    }

    /// <summary>
    /// A MessagePack string whose bytes are not UTF-8 is not text, as JSON's escaped lone surrogate is not
    /// (DESIGN.md §3): the same invalid_argument for the same argument, whichever the protocol. It was read
    /// with U+FFFD in place of the bad bytes, so a menu id became "not on the menu" and a since epoch a stale
    /// one (a snapshot).
    /// </summary>
    [Fact]
    public async Task AMessagePackStringThatIsNotUtf8IsAnInvalidArgumentAsInJson()
    {
        var (room, ann) = await RoomWithMemberAsync();
        await using var _ = ann;
        await using var bin = await HubTestClient.ConnectAsync(Server.BaseUrl, await Server.TokenAsync(room, "bin"), o => o.MessagePack = true);
        await bin.InvokeAsync("Join", room.Id, null);
        await ann.Client.NextEventShouldBeAsync(2);
        byte[] loneSurrogate = [0xED, 0xA0, 0x80]; // U+D800 encoded as UTF-8 would, if it could

        (await bin.RejectedCodeAsync("SetChoice", room.Id, RawMessagePack.Str([(byte)'p', .. loneSurrogate]), 1, null)).Should().Be(RoomErrorCodes.InvalidArgument, "as JSON's \"p\\ud800\" is (NotText)");
        (await bin.RejectedCodeAsync("AdjustChoice", room.Id, RawMessagePack.Str(0x70, 0x69, 0xFF), 1, null)).Should().Be(RoomErrorCodes.InvalidArgument);
        (await bin.RejectedCodeAsync("Join", room.Id, SinceWithEpoch(RawMessagePack.Str(loneSurrogate), 2))).Should().Be(RoomErrorCodes.InvalidArgument);

        // The answer says what is wrong with the value, not only that the types did not match.
        var refused = () => bin.InvokeAsync("SetChoice", room.Id, RawMessagePack.Str([(byte)'p', .. loneSurrogate]), 1, null);
        (await refused.Should().ThrowAsync<HubErrorException>()).Which.Message.Should().Contain("a MessagePack string that is not UTF-8 text")
            .And.NotContain("Make sure that the types");

        await AssertNothingChangedAsync(room, ann, 2);
    }

    /// <summary><c>since</c> as a MessagePack map whose epoch is written raw.</summary>
    private static RawMessagePack SinceWithEpoch(RawMessagePack epoch, long version)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteMapHeader(2);
        writer.Write("epoch");
        writer.WriteRaw(epoch.Encoded);
        writer.Write("version");
        writer.Write(version);
        writer.Flush();
        return new RawMessagePack(buffer.WrittenSpan.ToArray());
    }
}
