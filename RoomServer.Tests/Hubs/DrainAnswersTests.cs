using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A drain lets the calls in flight answer before it closes their connections (DESIGN.md §9). SignalR writes a
/// call's answer after the hub filters have returned; the drain counted a call until its filter returned only, so
/// an answer written a moment later was lost to the close — a write applied, its client told "connection closed".
/// The answer here is held (<see cref="LateAnswers"/>) well past the point the filter gave the call up.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class DrainAnswersTests
{
    [Fact]
    public async Task AnAnswerWrittenAfterTheFiltersReturnReachesItsClientBeforeTheDrainClosesTheConnection()
    {
        var late = new LateAnswers(TimeSpan.FromSeconds(1));
        var server = new LateAnswerServer(late);
        await server.InitializeAsync();
        try
        {
            var room = await server.CreateRoomAsync();
            await using var ann = await server.JoinAsync(room, "ann");

            late.Arm("SetChoice");
            var write = ann.Client.SetChoiceAsync(room, "pizza", 2, "in-flight");
            await late.Returned.WaitAsync(TimeSpan.FromSeconds(10));
            // The drain blocks the thread that stops the host (by design), and the host's own wait for shutdown blocks
            // another on the same lock: on its own thread, so the test runner's pool threads are not starved further.
            var stopping = Task.Factory.StartNew(server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication, TaskCreationOptions.LongRunning);

            var ack = await write;
            ack.Should().Be(new ChoiceAck(ack.Version, 2), "the write's answer reaches its client before the drain closes the connection");
            await ann.Client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
            await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// Embedded mode and <see cref="LateAnswers"/> outside the server's filters. A long drain (<c>DrainSeconds</c> 60): it
    /// waits up to 12 s for calls in flight (a quarter of its budget), so a busy box's stalls do not end the wait before
    /// the answer (the default's 4 s left 3 s of slack around the 1 s hold).
    /// </summary>
    private sealed class LateAnswerServer(LateAnswers late) : ContractServer
    {
        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["RoomServer:DrainSeconds"] = "60" });

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        protected override void ConfigureServices(IServiceCollection services) => LateAnswers.AddOutermost(services, late);
    }
}
