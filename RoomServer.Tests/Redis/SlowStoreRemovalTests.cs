using System.Diagnostics;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Redis;

/// <summary>
/// A removed member's connections close within a second (DESIGN.md §3 <c>Removed</c>), even when the store
/// is slow: the close waits only so long for the member's removal generation (which spares a device
/// re-admitted meanwhile), then closes every connection of the member that it holds, allowing a reconnect.
/// </summary>
public sealed class SlowStoreRemovalTests(LongStoreDeadlineRedisServer server, ITestOutputHelper output) : IClassFixture<LongStoreDeadlineRedisServer>
{
    /// <summary>
    /// How long Redis stops answering right after the removal: longer than the close may take, shorter than the
    /// store's deadline (so a close that waits for the store waits the whole pause), and than the 5 s the test's
    /// own <c>CLIENT UNPAUSE</c> may wait (Redis holds that back too).
    /// </summary>
    private const int PauseMilliseconds = 4500;

    /// <summary>
    /// The pause must be in force before the close asks the store, 0.4 s after the replica hears the removal
    /// (RemovedMemberEviction's head start). A PAUSE confirmed later than this did not set the scene (on a loaded box
    /// the test's own command can be that late): that attempt is run again with a new room.
    /// </summary>
    private static readonly TimeSpan PauseInTimeWithin = TimeSpan.FromMilliseconds(300);

    private const int Attempts = 3;

    [Fact]
    public async Task ARemovedMembersConnectionClosesOnTimeWhileTheStoreIsNotAnswering()
    {
        var attempt = 0;
        (bool Closed, TimeSpan Took, TimeSpan PausedAfter, int ReconnectsAsked) outcome;
        do
        {
            attempt++;
            outcome = await RemoveBobAndPauseTheStoreAsync();
            output.WriteLine($"attempt {attempt}: Redis paused {outcome.PausedAfter.TotalMilliseconds:0} ms and the connection closed {outcome.Took.TotalMilliseconds:0} ms after the removal was answered");
        }
        while (outcome.PausedAfter >= PauseInTimeWithin && attempt < Attempts);

        outcome.PausedAfter.Should().BeLessThan(PauseInTimeWithin,
            $"the test pauses Redis before the close asks it (else the store answers and there is nothing to test); {Attempts} attempts were all too late");
        var (closed, took, _, reconnectsAsked) = outcome;
        closed.Should().BeTrue("the server closes a removed member's connections (DESIGN §3 Removed)");
        // The contract's second is the server's (measured 0.76–0.80 s on a quiet box: the notice's 0.4 s head
        // start, then the 0.4 s the close waits for the store; once 1.8 s just after a build). The bound leaves
        // two more for the client to see the close while the rest of the suite loads the box, and still fails
        // a close that waits for the paused store (~4.5 s).
        took.Should().BeLessThan(TimeSpan.FromMilliseconds(3000),
            "the close must not wait out the paused store's answer (it used to: 0.4 s, then the store's answer or its deadline)");
        reconnectsAsked.Should().Be(1,
            "without the member's removal generation the close cannot tell a removed device from one re-admitted meanwhile: " +
            "it allows a reconnect (a removed device is refused 401 there) rather than tell a re-admitted one it was removed");
    }

    /// <summary>A room with ann and bob; bob removed, then Redis paused at once; how and when bob's connection closed.</summary>
    private async Task<(bool Closed, TimeSpan Took, TimeSpan PausedAfter, int ReconnectsAsked)> RemoveBobAndPauseTheStoreAsync()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        var reconnect = new AskedOnlyRetryPolicy();
        await using var bob = await server.ConnectAsync(await server.TokenAsync(room, "bob"), o => o.Reconnect = reconnect);
        await bob.InvokeAsync("Join", room.Id, null);

        using var removal = await server.Api.DeleteAsync(new Uri($"/api/rooms/{room.Id}/members/bob", UriKind.Relative));
        removal.EnsureSuccessStatusCode();
        var removed = Stopwatch.StartNew();
        (await server.Redis.ExecuteAsync("CLIENT", "PAUSE", PauseMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "ALL")).Should().Be("OK");
        var pausedAfter = removed.Elapsed;
        bool closed;
        TimeSpan took;
        try
        {
            closed = await Task.WhenAny(bob.Closed, Task.Delay(TimeSpan.FromSeconds(10))) == bob.Closed;
            took = removed.Elapsed;
        }
        finally
        {
            // Answered once the pause is over, if Redis holds it back too: either way Redis serves again
            // before the test tears down its clients and server (or the next attempt creates its room).
            await server.Redis.ExecuteAsync("CLIENT", "UNPAUSE");
        }

        return (closed, took, pausedAfter, reconnect.Asked);
    }
}

/// <summary>
/// A Redis-backed server whose store deadline (6 s) is far longer than the close's own wait, so a close that
/// waits out the store is told apart from one on time even on a loaded box. Its rooms tick once a minute, not every
/// second: a tick whose sweep read the store in the moment between the removal and the pause found bob removed and
/// closed him itself 0.4 s later, told <c>Removed</c> and without a reconnect (a CI flake), so the close under test
/// found nothing of his left to close.
/// </summary>
public sealed class LongStoreDeadlineRedisServer : RedisContractServer
{
    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
        new Dictionary<string, string>(await base.StartBackingServicesAsync())
        {
            ["RoomServer:StoreTimeoutMilliseconds"] = "6000",
            ["RoomServer:PositionIntervalSeconds"] = "60",
        };
}
