using System.Globalization;
using System.Text;
using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// The speed issue's two W1 targets that are read at a rate rather than a break, worked out from the run so that the report
/// states them: replica CPU per delivered event at the reference rate (~1 000 changes/s) against the floor's at the same
/// rate, and the ack's p99 at half the arm's capacity. Each is read from the arm's counted, valid step nearest the rate.
/// </summary>
public static class W1Targets
{
    /// <summary>The issue's reference rate for CPU per event.</summary>
    public const int ReferenceRate = 1000;

    public sealed record Row(string Arm, int? CpuRate, double? MicrosPerEvent, double? FloorMicrosPerEvent, double? Ratio, int? HalfCapacityRate, double? AckP99Ms);

    public static IReadOnlyList<Row> Of(IReadOnlyList<ArmResult> arms)
    {
        var floor = RunSummaries.W1(arms.FirstOrDefault(a => a.Server == ArmServer.Floor));
        return arms.Where(a => a.Server != ArmServer.Floor && RunSummaries.W1(a) is not null).Select(a =>
        {
            var w1 = RunSummaries.W1(a)!;
            var atReference = Nearest(w1, ReferenceRate);
            var floorThere = atReference is null || floor is null ? null : floor.Steps.LastOrDefault(s => s.Valid && s.Rate == atReference.Rate);
            var ours = atReference?.Cpu.ReplicaMicrosPerEvent;
            var theirs = floorThere?.Cpu.ReplicaMicrosPerEvent;
            var halfCapacity = w1.AtSlo.Rate is { } capacity ? Nearest(w1, capacity / 2) : null;
            return new Row(a.Arm, atReference?.Rate, ours, theirs, theirs > 0 ? ours / theirs : null, halfCapacity?.Rate, halfCapacity?.AckMs.P99);
        }).ToList();
    }

    public static void Write(StringBuilder md, IReadOnlyList<ArmResult> arms)
    {
        var rows = Of(arms);
        if (rows.Count == 0)
        {
            return;
        }

        md.Append("## W1 against the speed issue's rate targets\n\n");
        md.Append("Replica CPU per delivered event at the counted step nearest ").Append(ReferenceRate)
            .Append(" changes/s, against the floor's step at that rate (target ≤ 1.5×); the ack's p99 at the counted step nearest half the arm's capacity (target ≤ 5 ms). Valid steps only.\n\n");
        md.Append("| arm | at rate | replica µs/event | floor µs/event | × floor | half capacity: rate | ack p99 ms |\n");
        md.Append("| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in rows)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {r.Arm} | {r.CpuRate?.ToString(CultureInfo.InvariantCulture) ?? "—"} | {N(r.MicrosPerEvent)} | {N(r.FloorMicrosPerEvent)} | {N(r.Ratio)} | {r.HalfCapacityRate?.ToString(CultureInfo.InvariantCulture) ?? "—"} | {N(r.AckP99Ms)} |\n");
        }

        md.Append('\n');
    }

    /// <summary>The valid counted step nearest the rate (the lower of two as near; of a rate run twice, the later, as the floor's side reads).</summary>
    private static WriteStepResult? Nearest(WriteScenarioResult scenario, int rate) =>
        scenario.Steps.Where(s => s.Valid).OrderBy(s => Math.Abs(s.Rate - rate)).ThenBy(s => s.Rate).ThenByDescending(s => s.Step).FirstOrDefault();

    private static string N(double? value) => value is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "—";
}
