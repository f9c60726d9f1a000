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

    [Fact]
    public async Task ADeepFrameThatIsNotJsonStillClosesTheConnection()
    {
        var room = await Server.CreateRoomAsync();
        await using var raw = await Server.ConnectRawAsync(await Server.TokenAsync(room, "oscar"));

        await raw.SendRawAsync($$"""{"type":1,"invocationId":"9","target":"Join","arguments":["{{room.Id}}",{{new string('[', 100)}}}""" + "\u001e");

        var closed = () => raw.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await closed.Should().NotThrowAsync("a malformed frame closes the connection (DESIGN.md §5)");
    }
}
