using System.Globalization;
using RoomShare.LoadTest.Console;
using RoomShare.LoadTest.Hub;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Results;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// W1 (small rooms) and W2 (big rooms), stepped: rates go up the ladder until a step breaks the relaxed
/// SLO (p99 fan-out above the relaxed limit, or any loss) or the generator is starved; capacity at the
/// SLO and at the relaxed limit come from the steps. An unmeasured warm-up pass at the first rate comes
/// first; an invalid step, or a clean one over the p99 limit, is run once more and the second attempt counts.
/// After the ladder, up to <see cref="WriteScenarioSettings.RefineSteps"/> steps narrow the capacity at the SLO.
/// </summary>
public static class WriteScenario
{
    // After the last step, how long deliveries may still come in before the late ones are counted: a step's
    // drain waits for every expected delivery, so only duplicates and mismatches (or a drain cut short) remain.
    private static readonly TimeSpan LateGrace = TimeSpan.FromSeconds(1);

    public static async Task<WriteScenarioResult> RunAsync(ArmContext context, WriteScenarioSettings settings, CancellationToken cancellationToken)
    {
        var label = $"{context.Arm.Name} {settings.Id}";
        context.Progress.Show($"{label}: creating {settings.Rooms} rooms × {settings.Members} members");
        await using var population = await RoomPopulation.CreateAsync(
            context.Api, $"loadtest {settings.Id}", settings.Rooms, settings.Members, settings.MenuItems, cancellationToken);
        var connect = await population.ConnectAllAsync(
            context.Hub,
            context.Profile.ConnectConcurrency,
            joined => context.Progress.Show($"{label}: joined {joined}/{settings.Connections}"),
            cancellationToken);
        ProgressLine.Log(Invariant($"{label}: {connect.Joined}/{settings.Connections} joined in {connect.Seconds:0.0}s, per replica {string.Join(' ', connect.PerReplica.Select(r => $"{r.Key}:{r.Value}"))}"));
        if (connect.Failed > 0)
        {
            var failed = $"{connect.Failed} of {settings.Connections} members failed to connect or join, e.g. {string.Join(" | ", connect.FailureSamples)}";
            ProgressLine.Warn($"{label}: {failed}");
            return new WriteScenarioResult(settings.Id, context.Arm.Name, settings, connect, [], [], new Capacity(null, "not measured"), new Capacity(null, "not measured"), failed, []);
        }

        // Quantities up to the smallest cap the members' replicas stated (DESIGN.md §3 maxQuantity): above any, writes fail.
        var maxQuantity = population.StatedMaxQuantity ?? WriteSchedule.DefaultMaxQuantity;
        if (maxQuantity < WriteSchedule.LeastMaxQuantity)
        {
            var why = $"the servers take quantities up to {maxQuantity}: the write schedule needs at least {WriteSchedule.LeastMaxQuantity} to change a quantity with every write (RoomServer__MaxQuantity)";
            ProgressLine.Warn($"{label}: {why}");
            return new WriteScenarioResult(settings.Id, context.Arm.Name, settings, connect, [], [], new Capacity(null, "not measured"), new Capacity(null, "not measured"), why, []);
        }

        await using var pings = ConnectionSweep.Pings(() => population.Connections);
        await using var acks = ConnectionSweep.Acks(context.Hub.WebClient, () => population.Connections);
        await Task.Delay(TimeSpan.FromSeconds(settings.SettleSeconds), cancellationToken); // join events and presence settle first
        var schedule = new WriteSchedule(population.Rooms, population.MenuIds, maxQuantity);
        var steps = new List<WriteStepResult>();
        var discarded = new List<WriteStepResult>();
        var refined = new List<int>();
        var ledgers = 0;
        string? error = null;

        // A step that counts: a clean step that was invalid or over the p99 limit is run once more and the
        // second attempt counts. A starved generator or a slow step is often a passing spike (JIT on a fresh
        // cluster, another process on the shared box); a break counts only when it repeats. Loss (or any other
        // fault: duplicates, out of order, a closed connection) is never retried, invalid or not: it counts.
        async Task<WriteStepResult> RunCountedStepAsync(int rate)
        {
            var result = await WriteStep.RunAsync(context, population, schedule, settings, ledgers++, rate, 1, cancellationToken);
            ProgressLine.Log(Describe(label, result));
            if (result.Clean && (!result.Valid || !result.MeetsSlo))
            {
                discarded.Add(result);
                result = await WriteStep.RunAsync(context, population, schedule, settings, ledgers++, rate, 2, cancellationToken);
                ProgressLine.Log(Describe(label, result));
            }

            return result;
        }

        try
        {
            // A fresh cluster (and this generator) JIT-compiles its hot paths in the first seconds of load: one
            // unmeasured pass at the first rate, or the first step's CPU per event is several times the truth.
            var warmUp = await WriteStep.RunAsync(context, population, schedule, settings, ledgers++, settings.Rates[0], 0, cancellationToken);
            ProgressLine.Log(Describe(label, warmUp));
            discarded.Add(warmUp);
            foreach (var rate in settings.Rates)
            {
                var result = await RunCountedStepAsync(rate);
                steps.Add(result);
                if (!result.Valid || !result.MeetsRelaxedSlo)
                {
                    break;
                }
            }

            // Then narrow the capacity at the SLO: each refinement halves the gap to the step above it.
            for (var i = 0; i < settings.RefineSteps; i++)
            {
                if (Capacity.Refinement(steps, s => s.Rate, s => s.Decisive, s => s.MeetsSlo) is not { } rate)
                {
                    break;
                }

                steps.Add(await RunCountedStepAsync(rate));
                refined.Add(rate);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Keep the steps measured so far; the error is reported with them.
            error = $"{ex.GetType().Name}: {ex.Message}";
            ProgressLine.Warn($"{label}: {error}");
        }

        await Task.Delay(LateGrace, CancellationToken.None);
        var late = population.Tracker.Late();
        if (late != default)
        {
            ProgressLine.Warn(Invariant(
                $"{label}: after their steps closed, {late.Receipts} deliveries arrived late, {late.Duplicates} duplicates, {late.Mismatched} mismatched, {late.OrderFaults} out of order"));
        }

        (steps, discarded) = LateJudgement.Apply(steps, discarded, population.Tracker.LateOf);

        var closeReasons = population.Tracker.CloseReasons.ToList();
        if (closeReasons.Count > 0)
        {
            ProgressLine.Warn($"{label}: connections the servers closed said: {string.Join(" | ", closeReasons)}");
        }

        // Both capacities read every step: the refinements aim at the SLO's, but a refined step counts for the
        // relaxed limit too — it can raise that capacity, or (missing it) lower it: conservative, never hidden.
        return new WriteScenarioResult(
            settings.Id,
            context.Arm.Name,
            settings,
            connect,
            [.. steps.OrderBy(s => s.Rate)],
            discarded,
            Capacity.Of(steps, s => s.Rate, s => s.Decisive, s => s.MeetsSlo),
            Capacity.Of(steps, s => s.Rate, s => s.Decisive, s => s.MeetsRelaxedSlo),
            error,
            refined,
            late,
            closeReasons);
    }

    private static string Describe(string label, WriteStepResult s)
    {
        var verdict = s switch
        {
            { Valid: false, Clean: false } => $"breaks (loss; counted whatever the generator did: {string.Join("; ", s.GeneratorLate)})",
            { Valid: false } => $"INVALID ({string.Join("; ", s.GeneratorLate)})",
            { MeetsSlo: true, GeneratorLate.Count: > 0 } => $"meets SLO with the generator late ({string.Join("; ", s.GeneratorLate)}; counted: the latencies include its lateness)",
            { MeetsSlo: true } => "meets SLO",
            { MeetsRelaxedSlo: true } => "meets relaxed SLO only",
            { GeneratorLate.Count: > 0 } => $"breaks SLO beyond the generator's lateness (send lag max {s.SendLagMs.Max}, pool delay max {s.PoolDelayMs.Max} ms; it was late: {string.Join("; ", s.GeneratorLate)})",
            _ => "breaks SLO",
        };
        return Invariant(
            $"{label} step {s.Step} · {s.Rate}/s{s.Attempt switch { 0 => " (warm-up, not counted)", 1 => string.Empty, _ => " (again)" }}: fan-out p50 {s.FanoutMs.P50} p99 {s.FanoutMs.P99} max {s.FanoutMs.Max} ms · ack p99 {s.AckMs.P99} ms · {s.DeliveriesPerSecond} events/s · replicas {s.Cpu.ReplicaCores} cores = {s.Cpu.ReplicaMicrosPerEvent} µs/event · missing {s.Missing} dup {s.Duplicates} ooo {s.OutOfOrder} mismatched {s.Mismatched + s.StrayChoices} failed {s.Failed} · {verdict}{MarkdownReport.AofRewriteNote(s.AofRewrites)}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
