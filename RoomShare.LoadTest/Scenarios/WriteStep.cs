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
/// One step of W1/W2: (warm-up + step) × rate SetChoice calls open loop, CPU sampled over the measured
/// window, then a bounded drain until every member has every accepted change, then the books are closed.
/// </summary>
public static class WriteStep
{
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs one step; <paramref name="step"/> numbers its ledger, unique within the population (it is part of every opId).</summary>
    public static async Task<WriteStepResult> RunAsync(
        ArmContext context, RoomPopulation population, WriteSchedule schedule, WriteScenarioSettings settings, int step, int rate, int attempt, CancellationToken cancellationToken)
    {
        var total = (int)Math.Round((settings.WarmupSeconds + settings.StepSeconds) * rate);
        var measuredFrom = (int)Math.Round(settings.WarmupSeconds * rate);
        var ledger = new ChangeLedger(step, total, population.MembersPerRoom, measuredFrom);
        var tracker = population.Tracker;
        tracker.Register(ledger);
        var countersBefore = tracker.Snapshot();
        CpuSample? windowStart = null;
        Task<AofRewriteSnapshot?>? rewritesAtStart = null;
        long deliveriesAtStart = 0;

        context.Progress.Show(() => Invariant(
            $"{context.Arm.Name} {settings.Id} · {rate}/s · sent {ledger.Sent}/{total} · fan-out p99 so far {ledger.Fanout.Summarize().P99} ms"));
        // The region first: entering it collects once, which the step's thread-pool figures must not count. They start
        // afresh here, and again where the measured window opens (a step too short to have one keeps the whole step's).
        var gcHold = GeneratorGcHold.Begin(context.Profile.GeneratorHoldsGc, GeneratorGcHold.RegionBytes(total, population.MembersPerRoom));
        context.Probe.Restart();
        GcHoldResult generatorGc;
        try
        {
            await OpenLoop.RunAsync(rate, total, (i, intendedAt, now) =>
            {
                if (i == measuredFrom)
                {
                    // The thread-pool delays over the measured window only, as the send lag: the step's warm-up
                    // (the rate just changed) is not the generator's state at this rate.
                    context.Probe.Restart();
                    deliveriesAtStart = tracker.ChoiceDeliveries;
                    windowStart = CpuSample.Take(context.Processes);
                    rewritesAtStart = context.ReadAofRewrites(); // off the schedule's thread: a Redis round trip
                }

                Send(ledger, schedule, step, i, intendedAt, now);
            }, cancellationToken);
        }
        finally
        {
            // Left however the sends end, so a cancelled step does not leave the tool in the region.
            generatorGc = gcHold.End();
        }

        var windowEnd = CpuSample.Take(context.Processes);
        var deliveries = tracker.ChoiceDeliveries - deliveriesAtStart;
        var poolDelay = context.Probe.TakeSummary();

        var drainStarted = Stopwatch.GetTimestamp();
        var drainLimit = TimeSpan.FromSeconds(settings.DrainSeconds);
        while (!ledger.Settled && Stopwatch.GetElapsedTime(drainStarted) < drainLimit)
        {
            await Task.Delay(DrainPoll, cancellationToken);
        }

        var drainSeconds = Stopwatch.GetElapsedTime(drainStarted).TotalSeconds;
        var settled = ledger.Settled;
        // After the drain: a rewrite that starts as the window closes still delays the window's last changes.
        var rewritesAtEnd = context.ReadAofRewrites();
        var totals = ledger.Seal();
        if (!settled)
        {
            // Cut at the drain's limit with deliveries still coming (late now, after the books closed): the next step
            // must not start inside this one's backlog, or its window measures both. Waited for, bounded.
            await WaitForQuietAsync(context, tracker, cancellationToken);
        }

        if (context.AckTimelineDirectory is { } timelines)
        {
            try
            {
                AckTimelineFile.Write(timelines, context.Arm.Name, settings.Id, step, rate, attempt, ledger);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An optional extra: the step's figures still count.
                ProgressLine.Warn($"{context.Arm.Name} {settings.Id} {rate}/s: ack timeline not written ({ex.Message})");
            }
        }

        var aofRewrites = AofRewriteSnapshot.Overlapping(
            rewritesAtStart is null ? null : await rewritesAtStart, await rewritesAtEnd);
        var counters = tracker.Snapshot().Since(countersBefore);
        var cpu = CpuUsage.Between(windowStart ?? windowEnd, windowEnd, deliveries);
        var fanout = ledger.Fanout.Summarize();
        var sendLag = ledger.SendLag.Summarize();
        var late = GeneratorVerdict.Reasons(context.Profile.Generator, sendLag, poolDelay, cpu);
        var clean = totals.Missing == 0 && totals.Duplicates == 0 && totals.Mismatched == 0 && totals.Failed == 0 && totals.Unacknowledged == 0
            && counters.OutOfOrder == 0 && counters.DuplicateVersions == 0 && counters.Gaps == 0 && counters.StrayChoices == 0 && counters.ClosedConnections == 0;

        // Within the SLO with no loss despite a late generator, the step met both limits; over the relaxed limit
        // beyond the generator's lateness, it broke both on the servers' account.
        var valid = GeneratorVerdict.WriteStepCounts(
            context.Profile.Generator, late, cpu.GeneratorCores, clean, fanout,
            sloMs: context.Profile.Slo.FanoutP99Ms, relaxedMs: context.Profile.Slo.RelaxedFanoutP99Ms, sendLag: sendLag, poolDelay: poolDelay);
        return new WriteStepResult(
            step,
            rate,
            attempt,
            cpu.WindowSeconds,
            totals.Sent,
            totals.Acknowledged,
            totals.Failed,
            totals.Unacknowledged,
            totals.Errors,
            deliveries,
            cpu.WindowSeconds > 0 ? Math.Round(deliveries / cpu.WindowSeconds, 1) : 0,
            (double)rate * population.MembersPerRoom,
            fanout,
            ledger.Ack.Summarize(),
            sendLag,
            poolDelay,
            totals.Missing,
            totals.Duplicates,
            totals.Mismatched,
            counters.StrayChoices,
            counters.OutOfOrder,
            counters.DuplicateVersions,
            counters.Gaps,
            counters.ClosedConnections,
            cpu,
            Math.Round(drainSeconds, 2),
            valid,
            late,
            clean,
            clean && fanout.P99 <= context.Profile.Slo.FanoutP99Ms,
            clean && fanout.P99 <= context.Profile.Slo.RelaxedFanoutP99Ms,
            generatorGc,
            aofRewrites);
    }

    private static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan QuietLimit = TimeSpan.FromSeconds(30);

    /// <summary>Until no choice event has arrived for <see cref="QuietFor"/>, at most <see cref="QuietLimit"/>.</summary>
    private static async Task WaitForQuietAsync(ArmContext context, DeliveryTracker tracker, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var last = tracker.ChoiceDeliveries;
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(quietSince) < QuietFor && Stopwatch.GetElapsedTime(started) < QuietLimit)
        {
            await Task.Delay(DrainPoll, cancellationToken);
            if (tracker.ChoiceDeliveries is var now && now != last)
            {
                last = now;
                quietSince = Stopwatch.GetTimestamp();
            }
        }

        ProgressLine.Log(Invariant($"{context.Arm.Name}: the step's drain was cut with deliveries still coming; waited {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s for them to stop before the next step"));
    }

    private static void Send(ChangeLedger ledger, WriteSchedule schedule, int step, int change, long intendedAt, long now)
    {
        var (writer, menuId, quantity) = schedule.Next();
        var changeId = InvocationIds.Change(step, change);
        ledger.MarkSending(change, writer.RoomId, quantity, intendedAt, now);
        if (writer.Connection is not { } connection)
        {
            ledger.MarkSendFailed(change, "not connected");
            return;
        }

        try
        {
            var sending = connection.SendChoiceAsync(changeId, writer.RoomId, menuId, quantity);
            if (!sending.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(sending, ledger, change);
            }
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            ledger.MarkSendFailed(change, ex.GetType().Name);
        }
    }

    /// <summary>A send that did not finish synchronously (socket buffer full): its failure still reaches the ledger.</summary>
    private static async Task ObserveAsync(ValueTask sending, ChangeLedger ledger, int change)
    {
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            ledger.MarkSendFailed(change, ex.GetType().Name);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
