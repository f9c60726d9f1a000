using System.Globalization;
using System.Text;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Profiles;
using RoomShare.LoadTest.Scenarios;

namespace RoomShare.LoadTest.Results;

/// <summary>report.md: the machine, the capacities (and the fraction of the floor's), then every scenario's table.</summary>
public static class MarkdownReport
{
    public const string FileName = "report.md";

    public static async Task WriteAsync(string directory, RunResult run, IReadOnlyList<string> plots)
    {
        var md = new StringBuilder();
        Header(md, run);
        Capacities(md, run);
        W1Targets.Write(md, run.Arms);
        JoinCapacities(md, run);
        foreach (var arm in run.Arms)
        {
            Line(md, $"## Arm `{arm.Arm}` ({arm.Server}, {arm.Replicas} replica{(arm.Replicas == 1 ? string.Empty : "s")})");
            if (arm.Error is not null)
            {
                Line(md, $"**Error:** {arm.Error}");
                Line(md);
            }

            if (arm.W0 is { } idle)
            {
                Idle(md, idle);
            }

            foreach (var write in arm.Writes)
            {
                Writes(md, write);
            }

            if (arm.W3 is { } ramp)
            {
                Joins(md, ramp, run.Settings.Generator);
            }
        }

        foreach (var plot in plots)
        {
            Line(md, $"![{plot}]({plot})");
            Line(md);
        }

        Fields(md);
        await File.WriteAllTextAsync(Path.Combine(directory, FileName), md.ToString());
    }

    private static void Header(StringBuilder md, RunResult run)
    {
        var m = run.Machine;
        Line(md, $"# RoomShare load test — profile `{run.Profile}`");
        Line(md);
        Line(md, $"- **When:** {run.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, {run.Seconds:0} s{(run.Complete ? string.Empty : $" — **INCOMPLETE**: {run.Error}")}");
        Line(md, $"- **Machine:** {m.Cpu}, {m.Cores} cores, {m.MemoryGiB} GiB, {m.Os}, kernel {m.Kernel}, {m.Runtime}; load average at start {string.Join(" ", m.LoadAverageAtStart.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}{(m.MemoryMonitor is { } monitor ? $"; kernel memory monitor: {monitor}" : string.Empty)}{(m.HugePages is { } thp ? $"; transparent huge pages: {thp}" : string.Empty)}");
        Line(md, $"- **Commit:** {run.Commit ?? "unknown"}");
        Line(md, $"- **SLO:** p99 fan-out ≤ {run.Settings.Slo.FanoutP99Ms} ms and no loss (also reported at ≤ {run.Settings.Slo.RelaxedFanoutP99Ms} ms). A step is invalid when the generator was starved (send lag p99 > {run.Settings.Generator.MaxSendLagP99Ms} ms, thread-pool delay p99 > {run.Settings.Generator.MaxPoolDelayP99Ms} ms, or ≥ {run.Settings.Generator.MaxCores} cores) — except a write step whose generator stayed under {run.Settings.Generator.MaxCores} cores and whose p99 either met the SLO with no loss (it counts as met: the latencies include the generator's lateness) or is over the relaxed limit by more than the generator's estimated worst lateness, twice its worst send lag (for the send and the read) plus its worst pool delay (it counts as broken).");
        Line(md, "- **Client:** a lean SignalR client on ClientWebSocket (the framework's JsonHubProtocol; the official MessagePackHubProtocol for the `-msgpack` arms, room events read field by field; the `-roomhint` arms name the room in the hub URL, nginx's routing hint), through nginx, WebSockets without negotiate (the `-webclient` arms as the reference web client: the room hint, negotiate with stateful reconnect, an ack a second for what each connection received); everything (redis, nginx, servers, generator) on the same box; " + ScheduleThreadPriority.Describe() + "; " + GeneratorGc(run) + ".");
        var s = run.Summary;
        Line(md, $"- **Correctness over the run:** missing {s.Missing}, out-of-order {s.OutOfOrder}, duplicates {s.Duplicates}, mismatched {s.Mismatched}, late {s.Late}, gaps {s.Gaps}, connections closed by servers {s.ClosedConnections}, failed connects {s.FailedConnects}, failed writes {s.FailedWrites}, unacknowledged writes {s.UnacknowledgedWrites}, failed joins {s.FailedJoins}, invalid steps {s.InvalidSteps}");
        Line(md);
    }

    /// <summary>Whether the generator's own collections were kept out of the write steps (<see cref="Measure.GeneratorGcHold"/>).</summary>
    private static string GeneratorGc(RunResult run)
    {
        if (!run.Settings.GeneratorHoldsGc)
        {
            return "the generator collecting garbage as it goes (`gen.holdgc=on` holds it off through each write step)";
        }

        var steps = run.Arms.SelectMany(a => a.Writes).SelectMany(w => w.Steps.Concat(w.DiscardedSteps)).ToList();
        var notHeld = steps.Count(s => !s.GeneratorGc.Held);
        return "the generator's own GC held off through each write step's sends (`gen.holdgc=on`: a no-GC region sized to the step)"
            + (notHeld == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $": {notHeld} of {steps.Count} write steps did not hold"));
    }

    private static void Capacities(StringBuilder md, RunResult run)
    {
        var w1 = run.Arms.Select(a => (Arm: a, W1: RunSummaries.W1(a))).Where(x => x.W1 is not null).ToList();
        if (w1.Count == 0)
        {
            return;
        }

        Line(md, "## W1 capacity (changes/s)");
        Line(md);
        Line(md, $"| arm | at p99 ≤ {run.Settings.Slo.FanoutP99Ms} ms, no loss | × floor | at p99 ≤ {run.Settings.Slo.RelaxedFanoutP99Ms} ms | × floor | replica µs/event at that rate |");
        Line(md, "| --- | --- | --- | --- | --- | --- |");
        foreach (var (arm, write) in w1)
        {
            var versus = run.Summary.VersusFloor.FirstOrDefault(v => v.Arm == arm.Arm);
            var best = write!.Steps.LastOrDefault(st => st.Rate == write.AtSlo.Rate);
            Line(md, $"| {arm.Arm} | {write.AtSlo} | {N(versus?.Fraction)} | {write.AtRelaxedSlo} | {N(versus?.RelaxedFraction)} | {N(best?.Cpu.ReplicaMicrosPerEvent)} |");
        }

        Line(md);
        foreach (var note in run.Summary.VersusFloor.Where(v => v.Note is not null))
        {
            Line(md, $"- {note.Arm}: {note.Note}.");
        }

        Line(md);
    }

    private static void JoinCapacities(StringBuilder md, RunResult run)
    {
        var joins = run.Summary.JoinsVersusFloor;
        // Shown even when the floor had no valid step: RoomShare's own join capacity still stands, and the
        // note says why there is no fraction.
        if (joins.Count == 0)
        {
            return;
        }

        Line(md, "## W3 join capacity (joins/s)");
        Line(md);
        Line(md, "| arm | at p99 connect→joined within the limit | × floor | the floor's | most completed/s (the floor's) |");
        Line(md, "| --- | --- | --- | --- | --- |");
        foreach (var j in joins)
        {
            Line(md, $"| {j.Arm} | {N(j.Capacity)} | {N(j.Fraction)} | {N(j.FloorCapacity)} | {N(j.MostCompletedPerSecond)} ({N(j.FloorMostCompletedPerSecond)}) |");
        }

        Line(md);
        foreach (var j in joins.Where(j => j.Note is not null))
        {
            Line(md, $"- {j.Arm}: {j.Note}.");
        }

        Line(md);
    }

    private static void Writes(StringBuilder md, WriteScenarioResult w)
    {
        var st = w.Settings;
        Line(md, $"### {w.Scenario}: {st.Rooms} rooms × {st.Members} members ({st.Rooms * st.Members} connections), {st.WarmupSeconds}+{st.StepSeconds} s per step");
        Line(md);
        if (w.Connect is { } c)
        {
            Line(md, $"Connected and joined {c.Joined} in {c.Seconds:0.0} s; per replica {string.Join(", ", c.PerReplica.Select(r => $"{r.Key} {r.Value}"))}. Capacity at SLO: **{w.AtSlo}**; at the relaxed limit: **{w.AtRelaxedSlo}**.");
            Line(md);
        }

        if (w.RefinedRates.Count > 0)
        {
            Line(md, $"After the ladder, {w.RefinedRates.Count} step(s) narrowed the capacity at the SLO, each between it and the step above: {string.Join(", ", w.RefinedRates.Select(r => $"{r}/s"))} (rows in rate order).");
            Line(md);
        }

        if (w.Error is not null)
        {
            Line(md, $"**Error:** {w.Error}");
            Line(md);
        }

        if (w.CloseReasons is { Count: > 0 } reasons)
        {
            Line(md, $"Connections the servers closed said (the first {reasons.Count}): {string.Join(" | ", reasons)}.");
            Line(md);
        }

        if (w.Steps.Count == 0)
        {
            return;
        }

        Line(md, "| offered/s | events/s | fan-out p50 / p90 / p99 / p99.9 / max ms | ack p50 / p99 ms | missing | dup | ooo | failed | replicas cores | nginx | redis | generator | others on the box | replica µs/event | send lag p99 | pool delay p99 | verdict |");
        Line(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var s in w.Steps)
        {
            var verdict = Verdict(s);
            if (s.Mismatched + s.StrayChoices > 0)
            {
                verdict += $" (events not matching their change: {s.Mismatched + s.StrayChoices})";
            }

            verdict += AofRewriteNote(s.AofRewrites);

            Line(md, $"| {s.Rate} | {s.DeliveriesPerSecond:0} | {P(s.FanoutMs)} | {s.AckMs.P50} / {s.AckMs.P99} | {s.Missing} | {s.Duplicates} | {s.OutOfOrder} | {s.Failed + s.Unacknowledged} | {s.Cpu.ReplicaCores} | {s.Cpu.NginxCores} | {s.Cpu.RedisCores} | {s.Cpu.GeneratorCores} | {s.Cpu.OtherCores} | {N(s.Cpu.ReplicaMicrosPerEvent)} | {s.SendLagMs.P99} | {s.PoolDelayMs.P99} | {verdict} |");
        }

        Line(md);
        if (w.DiscardedSteps.Count > 0)
        {
            Line(md, $"Not counted (their loss and order still count in the summary): {string.Join(", ", w.DiscardedSteps.Select(Discarded))}.");
            Line(md);
        }

        var last = w.Steps[^1];
        Line(md, $"Per process at {last.Rate}/s (cores): {string.Join(", ", last.Cpu.CoresByProcess.Select(p => $"{p.Key} {N(p.Value)}"))}; µs/event: replicas {N(last.Cpu.ReplicaMicrosPerEvent)}, nginx {N(last.Cpu.NginxMicrosPerEvent)}, redis {N(last.Cpu.RedisMicrosPerEvent)}, generator {N(last.Cpu.GeneratorMicrosPerEvent)}.");
        Line(md);
    }

    /// <summary>A write step's verdict column. A late step with loss counts as broken (WriteStepResult.Decisive), so it reads as one.</summary>
    private static string Verdict(WriteStepResult s) => s switch
    {
        { Valid: false, Clean: false } => $"breaks (loss; counted whatever the generator did: {string.Join("; ", s.GeneratorLate)})",
        { Valid: false } => "invalid: " + string.Join("; ", s.GeneratorLate),
        { MeetsSlo: true } => "SLO" + MetDespiteGenerator(s),
        { MeetsRelaxedSlo: true } => "relaxed only",
        _ => "breaks" + BeyondGenerator(s),
    };

    /// <summary>A step that met the SLO with a late generator says so: it counts because its latencies include the lateness.</summary>
    private static string MetDespiteGenerator(WriteStepResult s) =>
        s.GeneratorLate.Count == 0 ? string.Empty
        : $" with the generator late ({string.Join("; ", s.GeneratorLate)}; counted: the latencies include its lateness)";

    /// <summary>A step that broke beyond a late generator's lateness says so, with the figures the verdict used.</summary>
    private static string BeyondGenerator(WriteStepResult s) =>
        s.GeneratorLate.Count == 0 ? string.Empty
        : $" beyond the generator's lateness (p99 {s.FanoutMs.P99} ms; send lag max {s.SendLagMs.Max}, pool delay max {s.PoolDelayMs.Max} ms; it was late: {string.Join("; ", s.GeneratorLate)})";

    private static string Discarded(WriteStepResult r) =>
        r.Attempt == 0 ? $"the warm-up pass at {r.Rate}/s (replicas {N(r.Cpu.ReplicaMicrosPerEvent)} µs/event while JIT-compiling)"
        : !r.Valid ? $"a first attempt at {r.Rate}/s ({string.Join("; ", r.GeneratorLate)})"
        : r.GeneratorLate.Count > 0 ? $"a first attempt at {r.Rate}/s (breaks{BeyondGenerator(r)})"
        : $"a first attempt at {r.Rate}/s (p99 {r.FanoutMs.P99} ms, others on the box {r.Cpu.OtherCores} cores{AofRewriteNote(r.AofRewrites)})";

    /// <summary>A step whose window Redis's AOF rewrite overlapped says so: the fork stalls Redis, so a slow step with one may be Redis's housekeeping rather than the load.</summary>
    internal static string AofRewriteNote(int? rewrites) => rewrites switch
    {
        null or 0 => string.Empty,
        1 => "; Redis rewrote its AOF during the step",
        var n => $"; Redis rewrote its AOF {n} times during the step",
    };

    private static void Idle(StringBuilder md, IdleScenarioResult w0)
    {
        Line(md, $"### W0: {w0.Settings.Rooms} rooms × {w0.Settings.Members} members idle ({w0.Connect.Joined} joined in {w0.Connect.Seconds:0.0} s)");
        Line(md);
        Line(md, "| process | RSS before (MB) | after the first half (MB) | after (MB) | members on it | KB per connection | the second half's members | the second half's KB per connection | idle CPU (cores) |");
        Line(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (name, before) in w0.RssBeforeBytes)
        {
            var middle = w0.RssAfterFirstHalfBytes.GetValueOrDefault(name);
            var after = w0.RssAfterBytes.GetValueOrDefault(name);
            Line(md, $"| {name} | {Mb(before)} | {Mb(middle)} | {Mb(after)} | {Members(w0.JoinedByServer, name)} | {N(w0.KbPerConnectionByReplica.GetValueOrDefault(name))} | {Members(w0.SecondHalfJoinedByServer, name)} | {N(w0.SecondHalfKbPerConnectionByReplica.GetValueOrDefault(name))} | {N(w0.IdleCpu.CoresByProcess.GetValueOrDefault(name))} |");
        }

        Line(md);
        Line(md, "KB per connection: the whole RSS growth ÷ the members on the process (KB = 1 024 bytes, MB = 1 024 KB). The second half's: the growth while the second half of the rooms joined ÷ its members there. It leaves out most of what the process pays once, on its first connections (the code it compiles for them), not all of it.");
        Line(md);
        if (w0.Error is not null)
        {
            Line(md, $"**Error:** {w0.Error}");
            Line(md);
        }
    }

    private static void Joins(StringBuilder md, JoinRampResult w3, GeneratorLimits generator)
    {
        var perRoom = (w3.Settings.LargestStep + w3.Settings.Rooms - 1) / w3.Settings.Rooms;
        Line(md, $"### W3: join ramp over {w3.Settings.Rooms} rooms (≤ {perRoom} members each at the ladder's largest step), {w3.Settings.StepSeconds} s per step — capacity at p99 ≤ {w3.Settings.P99LimitMs} ms: **{w3.AtSlo}**");
        Line(md);
        var settled = w3.WarmUpReplicaCores.Count < 2 || JoinRampSettings.LastPassSettled(w3.WarmUpReplicaCores) ? string.Empty : " — the last two did not agree";
        Line(md, $"Warm-up passes at {w3.Settings.Rates[0]} joins/s, not counted (at least {w3.Settings.MinWarmUpPasses}, then until one is within {N(JoinRampSettings.WarmUpTolerance * 100)} % of the one before, at most {w3.Settings.MaxWarmUpPasses}): replicas {string.Join(", ", w3.WarmUpReplicaCores.Select(c => N(c)))} cores{settled}. A step is generator-limited past a send lag p99 of {N(w3.Settings.LimitsFrom(generator).MaxSendLagP99Ms)} ms (a join's latency counts from its intended time, so W3 allows {N(JoinRampSettings.SendLagShareOfLimit * 100)} % of its limit, or the writes' limit if higher).");
        Line(md);
        if (w3.RefinedRates.Count > 0)
        {
            Line(md, $"After the ladder, {w3.RefinedRates.Count} step(s) narrowed the capacity, each between it and the step above: {string.Join(", ", w3.RefinedRates.Select(r => $"{r}/s"))} (rows in rate order).");
            Line(md);
        }

        Line(md, "| joins/s offered | attempted | joined | completed/s | failed | connect→joined p50 / p90 / p99 / p99.9 / max ms | replicas cores | replica µs/join | nginx / redis / generator µs/join | box busy cores | dispatch lag p99 | verdict |");
        Line(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var s in w3.Steps)
        {
            var verdict = !s.Valid ? "invalid: " + string.Join("; ", s.GeneratorLate) : s.MeetsSlo ? "meets" : "breaks";
            if (!JoinStepResult.Counts(s))
            {
                verdict += $" (not counted: capped at {s.Attempted} joins, shorter than {N(w3.Settings.StepSeconds)} s)";
            }

            verdict += AofRewriteNote(s.AofRewrites);
            var others = $"{N(s.Cpu.NginxMicrosPerEvent)} / {N(s.Cpu.RedisMicrosPerEvent)} / {N(s.Cpu.GeneratorMicrosPerEvent)}";
            Line(md, $"| {s.Rate} | {s.Attempted} | {s.Joined} | {N(s.CompletedPerSecond)} | {s.Failed} | {P(s.ConnectToJoinedMs)} | {s.Cpu.ReplicaCores} | {N(s.Cpu.ReplicaMicrosPerEvent)} | {others} | {N(s.Cpu.BoxBusyCores)} | {s.DispatchLagMs.P99} | {verdict} |");
        }

        Line(md);
    }

    private static void Fields(StringBuilder md)
    {
        Line(md, "## Fields");
        Line(md);
        Line(md, "- **fan-out**: intended send time of a change → a member's receipt of its `RoomEvent`, every member of the room (first receipt). **ack**: intended send time → the `SetChoice` completion. Both from the intended time, so a late generator cannot hide a slow server.");
        Line(md, "- **missing**: (accepted change, member) pairs never delivered by the end of the drain; **dup**: a change delivered twice to a member; **ooo**: a member received a lower room version after a higher one; **failed**: rejected or never acknowledged changes.");
        Line(md, "- **cores**: CPU seconds per wall second from /proc over the measured window (nginx = master + workers); **others on the box**: busy CPU of the whole box minus every measured process (other work on a shared machine). **box busy** comes from /proc/stat, which the kernel samples per tick: on a lightly loaded box it can read below the measured processes' sum, whose own counters are exact. **µs/event**: replica CPU (sum over replicas) ÷ choice events delivered to members in the window.");
        Line(md, "- **send lag**: how late the generator sent against the schedule; **pool delay**: how long a work item waited for a thread in the generator. Either too high, or the generator near a full core, makes a step invalid (with the generator under its core limit, a write step within the SLO with no loss meets it all the same, and one over the relaxed limit by more than twice the worst send lag plus the worst pool delay breaks).");
        Line(md, "- **Redis rewrote its AOF**: an AOF rewrite (`INFO`, any Redis node) ran in a write step's measured window or its drain, or while a join step's joins ran. Redis forks for it, and the changes around the fork wait. A possible cause of a slow step, not a proven one: near capacity a rewrite falls in most steps, and W1 ladders with the rewrites deferred reached the same capacities as those without (docs/bench/w3-aof-marks-2026-12-05.md).");
    }

    private static string P(LatencySummary s) => $"{N(s.P50)} / {N(s.P90)} / {N(s.P99)} / {N(s.P999)} / {N(s.Max)}";

    private static string Members(IReadOnlyDictionary<string, int> joined, string process) =>
        joined.TryGetValue(process, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "—";

    private static string N(double? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "—";

    private static string Mb(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) : "—";

    private static void Line(StringBuilder md, string text = "") => md.Append(text).Append('\n');
}
