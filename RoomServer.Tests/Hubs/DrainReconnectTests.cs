using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A draining replica's members "reconnect through Nginx to another replica and resume" (DESIGN.md §9): the close
/// the drain sends must let a client's automatic reconnect start. SignalR's <c>Abort()</c> closes with
/// <c>allowReconnect: false</c>, and the official clients then stop for good (the web client showed "Cannot reach the
/// server" until clicked). Both ways a drain closes a connection are covered: its staggered batches, and a call
/// refused while the connection waits for its batch.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class DrainReconnectTests
{
    [Fact]
    public async Task EveryConnectionADrainClosesIsToldItMayReconnect()
    {
        // DrainSeconds 240: 9.6 s between the drain's batches (10 batches over half of 80 % of it), so with two
        // members the second waits well past the refusal's close (200 ms after its answer), on a loaded box too.
        var server = new DrainServer();
        await server.InitializeAsync();
        try
        {
            var room = await server.CreateRoomAsync();
            var annReconnect = new AskedOnlyRetryPolicy();
            var bobReconnect = new AskedOnlyRetryPolicy();
            await using var ann = await server.ConnectAsync(await server.TokenAsync(room, "ann"), o => o.Reconnect = annReconnect);
            await using var bob = await server.ConnectAsync(await server.TokenAsync(room, "bob"), o => o.Reconnect = bobReconnect);
            await ann.InvokeAsync("Join", room.Id, null);
            await bob.InvokeAsync("Join", room.Id, null);

            // The drain blocks the thread that stops the host (by design): on its own thread, not the pool's.
            var stopping = Task.Factory.StartNew(server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication, TaskCreationOptions.LongRunning);

            // The first batch closes one of them; the other still waits for its batch.
            var firstClosed = await Task.WhenAny(ann.Closed, bob.Closed).WaitAsync(TimeSpan.FromSeconds(20));
            var (waiting, waitingReconnect, batchReconnect) = firstClosed == ann.Closed ? (bob, bobReconnect, annReconnect) : (ann, annReconnect, bobReconnect);
            batchReconnect.Asked.Should().Be(1, "a connection closed in the drain's batches is told it may reconnect");

            // A call on the waiting connection is refused, and the connection closed at once, not at its batch.
            var refusal = Stopwatch.StartNew();
            (await waiting.RejectedCodeUnlessClosedFirstAsync("SetChoice", room.Id, "pizza", 1, "during-drain"))
                .Should().Be(RoomErrorCodes.Unavailable, "a draining replica takes no new calls");
            await waiting.Closed.WaitAsync(TimeSpan.FromSeconds(10));
            refusal.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(6), "the refusal closes its connection itself; its batch is 9.6 s after the first");
            waitingReconnect.Asked.Should().Be(1, "the refused call's connection is told it may reconnect, to another replica");

            await stopping.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Embedded mode with a long drain, so its batches are seconds apart.</summary>
    private sealed class DrainServer : ContractServer
    {
        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["RoomServer:DrainSeconds"] = "240" });

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;
    }
}
