using RoomShare.RoomServer.Fanout;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>A leave waits for its room's sweeps begun before it looked, never for later ones or another room's.</summary>
public sealed class SweepsInFlightTests
{
    [Fact]
    public async Task ALeaveWaitsForItsRoomsSweepsInFlightOnly()
    {
        var sweeps = new SweepsInFlight();
        var first = sweeps.Begin("r1");
        var second = sweeps.Begin("r1");
        using var otherRoom = sweeps.Begin("r2");

        var leave = sweeps.WhenDoneAsync("r1");
        using var later = sweeps.Begin("r1");

        leave.IsCompleted.Should().BeFalse("two sweeps of r1 are in flight");
        first.Dispose();
        leave.IsCompleted.Should().BeFalse("one still is");
        second.Dispose();
        await leave.WaitAsync(TimeSpan.FromSeconds(5));
        sweeps.WhenDoneAsync("r3").IsCompleted.Should().BeTrue("no sweep of r3 is in flight");
    }
}
