using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Embedded;
using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Metrics;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A drain lets the hub calls in flight finish before it closes their connections (DESIGN.md §9): their
/// answers reach the clients. It waited a quarter of its budget only, so with a short drain and a long store
/// deadline (a confirmed write's WAIT runs to it) a write was applied and its connection closed before the
/// answer — and a retry without an opId applied it twice. It now waits as long as one store call may take.
/// </summary>
public sealed class ReplicaDrainCallsTests
{
    [Fact]
    public async Task ACallInFlightLongerThanAQuarterOfTheDrainStillFinishesBeforeItsConnectionCloses()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new RoomServerOptions { DrainSeconds = 20, StoreTimeoutMilliseconds = 7500 });
        var membership = new RoomMembership(new InProcessBackplane(), options, new RoomMetrics(services.GetRequiredService<IMeterFactory>()), NullLogger<RoomMembership>.Instance);
        var connection = new HubConnectionContext(
            new DefaultConnectionContext("c1", new Pipes(new Pipe().Reader, new Pipe().Writer), new Pipes(new Pipe().Reader, new Pipe().Writer)),
            new HubConnectionContextOptions(),
            NullLoggerFactory.Instance);
        membership.Connected(connection);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var shutdown = new ReplicaShutdown();
        var drain = new ReplicaDrain(membership, lifetime, shutdown, options, NullLogger<ReplicaDrain>.Instance);
        await drain.StartAsync(CancellationToken.None);

        var clock = Stopwatch.StartNew();
        var closedAt = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionAborted.Register(() => closedAt.TrySetResult(clock.Elapsed));
        drain.TryBeginCall().Should().BeTrue();
        var stopping = Task.Run(lifetime.StopApplication);

        // The call takes 4.5 s: past a quarter of the 16 s budget (4 s), within the 7.5 s store deadline (the drain
        // waits up to 7.6 s, at most half its budget): 3 s to spare for a test process held up on a loaded box.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        var answeredAt = clock.Elapsed;
        drain.EndCall();

        (await closedAt.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeGreaterThanOrEqualTo(answeredAt, "the connection closes once its call has answered");
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        drain.IsDraining.Should().BeTrue();
    }

    private sealed record Pipes(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
