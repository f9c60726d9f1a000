using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

public sealed class RoomStatesTests
{
    [Theory]
    [InlineData("open", "locked", null)]
    [InlineData("open", "closed", null)]
    [InlineData("locked", "open", null)]
    [InlineData("locked", "closed", null)]
    [InlineData("open", "open", null)]
    [InlineData("closed", "closed", null)]
    [InlineData("closed", "open", "room_closed")]
    [InlineData("closed", "locked", "room_closed")]
    public void TheTransitionTableIsTheLifecycleOfTheDesign(string from, string to, string? rejection) =>
        RoomStates.RejectionFor(from, to).Should().Be(rejection);

    [Theory]
    [InlineData("open", true)]
    [InlineData("locked", true)]
    [InlineData("closed", true)]
    [InlineData("deleted", false)]
    [InlineData("OPEN", false)]
    [InlineData(null, false)]
    public void OnlyTheThreeLifecycleStatesCanBeSet(string? state, bool settable) =>
        RoomStates.IsSettable(state).Should().Be(settable);

    [Theory]
    [InlineData("open", null)]
    [InlineData("locked", "room_locked")]
    [InlineData("closed", "room_closed")]
    public void ChoicesAreOnlyAllowedWhileOpen(string state, string? rejection) =>
        RoomStates.ChoiceRejection(state).Should().Be(rejection);
}
