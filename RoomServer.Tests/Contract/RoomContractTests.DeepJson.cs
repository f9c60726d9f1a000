using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// A JSON hub argument nested deeper than SignalR's reader takes (64 levels, the frame's object and arguments array
/// included) is still JSON, and a call: refused <c>invalid_argument</c> like MessagePack's too-deep argument, and the
/// connection goes on (DESIGN.md §5). SignalR alone closed the connection for it, as for a frame that is not JSON. A frame
/// that is not JSON at any depth still closes it.
/// </summary>
public abstract partial class RoomContractTests
{
    [Theory]
    [InlineData(62)] // the deepest SignalR reads: the hub refuses the shape
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(5000)]
    public async Task AJsonArgumentNestedTooDeepIsAnInvalidArgumentAndTheConnectionGoesOn(int depth)
    {
        var (room, observer) = await RoomWithMemberAsync("olga", "owner");
        await using var _ = observer;
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "oscar"));
        await raw.InvokeAsync("Join", room.Id, null);
        await observer.Client.NextEventShouldBeAsync(2);
        var nested = new string('[', depth) + new string(']', depth);

        var join = () => raw.InvokeRawAsync("Join", $"\"{room.Id}\",{nested}");
        (await join.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be(RoomErrorCodes.InvalidArgument);

        // A call that wants no answer is dropped the same way, and the connection still serves the next call.
        await raw.SendRawAsync($$"""{"type":1,"target":"SetChoice","arguments":["{{room.Id}}","pizza",{{nested}},null]}""" + "\u001e");
        (await raw.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Version.Should().Be(2, "the connection is still open and serves the next call");
        raw.Closed.IsCompleted.Should().BeFalse();
        await AssertNothingChangedAsync(room, observer, 2);
    }

    /// <summary>A streaming invocation nested too deep is refused as one that is not (no hub method streams), not closed.</summary>
    [Fact]
    public async Task ADeepStreamingInvocationIsAnInvalidArgumentToo()
    {
        var room = await Server.CreateRoomAsync();
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "oscar"));
        var nested = new string('[', 70) + new string(']', 70);

        var stream = () => raw.InvokeRawMessageAsync("Join", $$"""{"type":4,"invocationId":"{id}","target":"Join","arguments":["{{room.Id}}",{{nested}}]}""");

        (await stream.Should().ThrowAsync<HubErrorException>()).Which.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        (await raw.InvokeAsync<JoinResult>("Join", room.Id, null)).Position.Epoch.Should().Be(room.Epoch, "the connection goes on");
    }

    /// <summary>
    /// Deep frames SignalR refuses for something besides their depth stay malformed, and close the connection (DESIGN.md §5):
    /// not JSON; arguments that are no array; an id that is no string; headers that are not strings; the depth in a property
    /// SignalR does not know, with arguments it reads.
    /// </summary>
    [Theory]
    [InlineData("""{"type":1,"invocationId":"9","target":"Join","arguments":["{room}",DEEP}""")]
    [InlineData("""{"type":1,"invocationId":"9","target":"Join","arguments":"{room}","pad":DEEP}""")]
    [InlineData("""{"type":1,"invocationId":9,"target":"Join","arguments":["{room}",DEEP]}""")]
    [InlineData("""{"type":1,"invocationId":"9","target":"Join","headers":{"h":1},"arguments":["{room}",DEEP]}""")]
    [InlineData("""{"type":1,"invocationId":"9","target":"Join","arguments":["{room}",null],"pad":DEEP}""")]
    public async Task ADeepFrameSignalRRefusesForMoreThanItsDepthStillClosesTheConnection(string frame)
    {
        var room = await Server.CreateRoomAsync();
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "oscar"));
        var deep = new string('[', 100) + new string(']', 100);

        await raw.SendRawAsync(frame.Replace("{room}", room.Id, StringComparison.Ordinal).Replace("DEEP", deep, StringComparison.Ordinal) + "\u001e");

        var closed = () => raw.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await closed.Should().NotThrowAsync("a malformed frame closes the connection (DESIGN.md §5)");
    }
}
