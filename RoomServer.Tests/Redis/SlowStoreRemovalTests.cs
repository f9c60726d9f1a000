using System.Diagnostics;
using RoomShare.RoomServer.Tests.Contract;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A removed member's connections close within a second (DESIGN.md §3 <c>Removed</c>), even when the store
/// is slow: the close waits only so long for the member's removal generation (which spares a device
/// re-admitted meanwhile), then closes every connection of the member that it holds.
/// </summary>
public sealed class SlowStoreRemovalTests(RedisContractServer server, ITestOutputHelper output) : IClassFixture<RedisContractServer>
{
    /// <summary>How long Redis stops answering right after the removal: longer than the close may take.</summary>
    private const int PauseMilliseconds = 2500;

    [Fact]
    public async Task ARemovedMembersConnectionClosesOnTimeWhileTheStoreIsNotAnswering()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        await using var bob = await server.JoinAsync(room, "bob");

        using var removal = await server.Api.DeleteAsync(new Uri($"/api/rooms/{room.Id}/members/bob", UriKind.Relative));
        removal.EnsureSuccessStatusCode();
        var removed = Stopwatch.StartNew();
        (await server.Redis.ExecuteAsync("CLIENT", "PAUSE", PauseMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL")).Should().Be("OK");
        bool closed;
        TimeSpan took;
        try
        {
            closed = await Task.WhenAny(bob.Client.Closed, Task.Delay(TimeSpan.FromSeconds(10))) == bob.Client.Closed;
            took = removed.Elapsed;
        }
        finally
        {
            // Answered once the pause is over, if Redis holds it back too: either way Redis serves again
            // before the test tears down its clients and server.
            await server.Redis.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        output.WriteLine($"closed {took.TotalMilliseconds:0} ms after the removal was answered");

        closed.Should().BeTrue("the server closes a removed member's connections (DESIGN §3 Removed)");
        // The contract's second is the server's; the bound adds 0.3 s for the client to see the close on a
        // loaded box (measured ~0.8 s), and still fails the close that waited out the store (1.9 s).
        took.Should().BeLessThan(TimeSpan.FromMilliseconds(1300),
            "the close must not wait out the paused store's answer (it used to: 0.4 s, then the store's own deadline, 1.5 s here)");
    }
}
