using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The runner behind the removal catch-up's sweeps and retries and the removal channel's subscription
/// attempts: one run at a time, a request during a run answered by exactly one more run after it, and a fault
/// that releases the runner instead of leaving it marked running for good.
/// </summary>
public sealed class SingleFlightTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RequestsDuringARunAreAnsweredByOneMoreRunAfterIt()
    {
        var runs = 0;
        var concurrent = 0;
        var mostConcurrent = 0;
        var firstRunGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstRunStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondRunDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flight = new SingleFlight(ex => throw new InvalidOperationException("no fault expected", ex), CancellationToken.None);

        async Task Job()
        {
            var run = Interlocked.Increment(ref runs);
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref mostConcurrent, now);
            if (run == 1)
            {
                firstRunStarted.SetResult();
                await firstRunGate.Task;
            }

            Interlocked.Decrement(ref concurrent);
            if (run == 2)
            {
                secondRunDone.SetResult();
            }
        }

        flight.Request(Job);
        await firstRunStarted.Task.WaitAsync(Wait);
        for (var i = 0; i < 10; i++)
        {
            flight.Request(Job); // all while the first run is under way
        }

        firstRunGate.SetResult();
        await secondRunDone.Task.WaitAsync(Wait);
        await Task.Delay(200); // room for a wrong third run to show

        runs.Should().Be(2, "ten requests during the first run are answered by one run after it");
        mostConcurrent.Should().Be(1, "never two runs at once");
    }

    [Fact]
    public async Task AFaultReleasesTheRunnerSoALaterRequestRunsAgain()
    {
        var faults = new List<Exception>();
        var runs = 0;
        var secondRun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var faulted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flight = new SingleFlight(ex => { lock (faults) { faults.Add(ex); } faulted.TrySetResult(); }, CancellationToken.None);

        Task Job()
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                throw new InvalidOperationException("unexpected");
            }

            secondRun.TrySetResult();
            return Task.CompletedTask;
        }

        flight.Request(Job);
        await faulted.Task.WaitAsync(Wait);
        await Task.Delay(100); // the runner releases itself in its finally, after reporting
        flight.Request(Job);
        await secondRun.Task.WaitAsync(Wait);

        faults.Should().ContainSingle().Which.Message.Should().Be("unexpected");
        runs.Should().Be(2);
    }

    [Fact]
    public async Task NothingStartsOnceStopping()
    {
        using var stopping = new CancellationTokenSource();
        var runs = 0;
        var flight = new SingleFlight(_ => { }, stopping.Token);
        await stopping.CancelAsync();

        flight.Request(() => { Interlocked.Increment(ref runs); return Task.CompletedTask; });
        await Task.Delay(200);

        runs.Should().Be(0);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
