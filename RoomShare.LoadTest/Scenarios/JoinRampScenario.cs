using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RoomShare.LoadTest.Console;
using RoomShare.LoadTest.Hub;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// W3: join ramp. Each step starts connections open loop at a rate (WebSocket through nginx, handshake,
/// Join), measures intended start → Join completed, then closes them all. Capacity is the highest rate
/// whose p99 stays within the limit (1 s) with no failed join, narrowed after the ladder by up to
/// <see cref="JoinRampSettings.RefineSteps"/> steps; a step cut short by the connection bound that passes is
/// reported but not counted (<see cref="JoinStepResult.Counts"/>). Members are reused from step to step.
/// </summary>
public static class JoinRampScenario
{
    public static async Task<JoinRampResult> RunAsync(ArmContext context, JoinRampSettings settings, CancellationToken cancellationToken)
    {
        var label = $"{context.Arm.Name} W3";
        var perRoom = (settings.LargestStep + settings.Rooms - 1) / settings.Rooms;
        context.Progress.Show($"{label}: creating {settings.Rooms} rooms × {perRoom} members");
        await using var population = await RoomPopulation.CreateAsync(context.Api, "loadtest W3", settings.Rooms, perRoom, 1, cancellationToken);
        // Member k sits in room k mod rooms, so every step spreads over every room.
        var members = Enumerable.Range(0, settings.Rooms * perRoom).Select(k => population.Rooms[k % settings.Rooms][k / settings.Rooms]).ToList();

        // Unmeasured passes first: on a fresh cluster the join path (auth, handshake, Join) is still
        // being JIT-compiled and tiered up, which takes several passes (measured at 250/s: replicas
        // 1.02, 1.17, 0.39, 0.38 cores). Two passes that agree can both be the JIT's (1.04, 1.20), so
        // the full profile takes at least three (JoinRampSettings.WarmUpDone).
        var warmUp = new List<double>();
        do
        {
            var step = await RunStepAsync(context, population, members, settings, settings.Rates[0], cancellationToken);
            warmUp.Add(step.Cpu.ReplicaCores);
            ProgressLine.Log(Invariant($"{label} {settings.Rates[0]} joins/s (warm-up {warmUp.Count}, not counted): {step.Joined}/{step.Attempted} joined, replicas {step.Cpu.ReplicaCores} cores"));
        }
        while (!settings.WarmUpDone(warmUp));

        var steps = new List<JoinStepResult>();
        async Task<JoinStepResult> RunLoggedStepAsync(int rate)
        {
            var step = await RunStepAsync(context, population, members, settings, rate, cancellationToken);
            ProgressLine.Log(Invariant(
                $"{label} {rate} joins/s: {step.Joined}/{step.Attempted} joined, connect→joined p50 {step.ConnectToJoinedMs.P50} p99 {step.ConnectToJoinedMs.P99} max {step.ConnectToJoinedMs.Max} ms, replicas {step.Cpu.ReplicaCores} cores{MarkdownReport.AofRewriteNote(step.AofRewrites)}{(step.Valid ? string.Empty : " · INVALID: " + string.Join("; ", step.GeneratorLate))}"));
            return step;
        }

        foreach (var rate in settings.Rates)
        {
            var step = await RunLoggedStepAsync(rate);
            steps.Add(step);
            if (!step.Valid || !step.MeetsSlo)
            {
                break;
            }
        }

        // Then narrow the capacity: each refinement halves the gap to the step above it.
        var refined = new List<int>();
        for (var i = 0; i < settings.RefineSteps; i++)
        {
            // A capped step could not narrow it: its pass would not count.
            if (Capacity.Refinement(steps.Where(JoinStepResult.Counts), s => s.Rate, s => s.Valid, s => s.MeetsSlo) is not { } rate || settings.Capped(rate))
            {
                break;
            }

            steps.Add(await RunLoggedStepAsync(rate));
            refined.Add(rate);
        }

        // A capped step that passed does not count, but one above the capacity means the break above it does not pin it.
        var capacity = Capacity.Of(steps.Where(JoinStepResult.Counts), s => s.Rate, s => s.Valid, s => s.MeetsSlo)
            .WithUncountedPassAbove(steps.Where(s => !JoinStepResult.Counts(s)).Select(s => (int?)s.Rate).Max());
        return new JoinRampResult(context.Arm.Name, settings, warmUp, [.. steps.OrderBy(s => s.Rate)], capacity, null, refined);
    }

    private static async Task<JoinStepResult> RunStepAsync(
        ArmContext context, RoomPopulation population, List<Member> members, JoinRampSettings settings, int rate, CancellationToken cancellationToken)
    {
        var count = settings.StepSize(rate);
        var latency = new LatencyHistogram();
        var dispatchLag = new LatencyHistogram();
        var joins = new Task[count];
        var failures = new ConcurrentQueue<string>();
        var joined = 0;
        context.Progress.Show(() => Invariant($"{context.Arm.Name} W3 · {rate} joins/s · joined {Volatile.Read(ref joined)}/{count}"));

        async Task JoinOneAsync(Member member, long intendedAt)
        {
            try
            {
                await population.ConnectAndJoinAsync(member, context.Hub, cancellationToken);
                latency.Record(intendedAt, Stopwatch.GetTimestamp());
                Interlocked.Increment(ref joined);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Enqueue(ex.Message);
            }
        }

        context.Probe.Restart(); // a join step is measured whole: from its first join
        await using var acks = ConnectionSweep.Acks(context.Hub.WebClient, () => population.Connections); // a web client acks its Join's answer a second later
        var start = CpuSample.Take(context.Processes);
        var rewritesAtStart = context.ReadAofRewrites(); // not awaited here: the step's first joins must not wait for it
        await OpenLoop.RunAsync(rate, count, (i, intendedAt, now) =>
        {
            dispatchLag.Record(intendedAt, now);
            joins[i] = JoinOneAsync(members[i], intendedAt);
        }, cancellationToken);
        await Task.WhenAll(joins); // each is bounded by the hub call timeout
        var cpu = CpuUsage.Between(start, CpuSample.Take(context.Processes), joined);
        var poolDelay = context.Probe.TakeSummary();
        var aofRewrites = AofRewriteSnapshot.Overlapping(await rewritesAtStart, await context.ReadAofRewrites());

        await population.CloseAllAsync();
        await Task.Delay(TimeSpan.FromSeconds(context.Profile.QuietSeconds), cancellationToken); // the closes' own work first

        var summary = latency.Summarize();
        var lag = dispatchLag.Summarize();
        // Any lateness voids a join step: a join is several generator hops (connect, upgrade, handshake,
        // Join), so the write steps' estimate of the generator's share does not carry over (GeneratorVerdict.WriteStepCounts),
        // and a pass with a late generator does not show the rate was offered: the 1-second limit is half the step.
        var late = GeneratorVerdict.Reasons(settings.LimitsFrom(context.Profile.Generator), lag, poolDelay, cpu);
        return new JoinStepResult(
            rate, count, joined, failures.Count, [.. failures.Take(3)], summary, lag, poolDelay, cpu,
            late.Count == 0, late, failures.IsEmpty && summary.P99 <= settings.P99LimitMs, settings.Capped(rate), aofRewrites);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
