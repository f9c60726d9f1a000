extern alias loadtool;

using System.Text;
using loadtool::RoomShare.LoadTest.Cluster;
using loadtool::RoomShare.LoadTest.Measure;
using loadtool::RoomShare.LoadTest.Profiles;
using loadtool::RoomShare.LoadTest.Results;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// The report's W1 rate targets (<see cref="W1Targets"/>): CPU per event at the valid step nearest 1 000/s against the
/// floor's step at that rate, and the ack p99 at the valid step nearest half the arm's capacity.
/// </summary>
public sealed class LoadToolTargetsTests
{
    [Fact]
    public void CpuPerEventIsComparedAtTheValidStepNearestTheReferenceRateAndTheAckAtHalfTheCapacity()
    {
        var roomShare = Arm("roomshare-2", ArmServer.RoomShare, capacity: 2328,
            Step(763, micros: 70, ackP99: 9), Step(954, micros: 62, ackP99: 11), Step(1192, micros: 58, ackP99: 14, valid: false),
            Step(1490, micros: 55, ackP99: 18), Step(2328, micros: 50, ackP99: 30));
        var floor = Arm("floor", ArmServer.Floor, capacity: 3847, Step(954, micros: 50, ackP99: 6), Step(1192, micros: 45, ackP99: 7));

        var row = W1Targets.Of([floor, roomShare]).Should().ContainSingle().Subject;

        (row.Arm, row.CpuRate, row.MicrosPerEvent, row.FloorMicrosPerEvent).Should().Be(("roomshare-2", 954, 62.0, 50.0),
            "954 is the valid step nearest 1 000/s (1 192 was invalid)");
        row.Ratio.Should().BeApproximately(1.24, 0.001);
        (row.HalfCapacityRate, row.AckP99Ms).Should().Be((954, 11.0), "half of 2 328 is 1 164: the valid step nearest it is 954, not the invalid 1 192");

        var md = new StringBuilder();
        W1Targets.Write(md, [floor, roomShare]);
        md.ToString().Should().Contain("| roomshare-2 | 954 | 62 | 50 | 1.24 | 954 | 11 |");
    }

    [Fact]
    public void WithoutAFloorOrACapacityTheTargetsSayNothingRatherThanGuess()
    {
        var row = W1Targets.Of([Arm("embedded", ArmServer.Embedded, capacity: null, Step(954, micros: 40, ackP99: 5))]).Single();

        (row.CpuRate, row.MicrosPerEvent, row.FloorMicrosPerEvent, row.Ratio, row.HalfCapacityRate, row.AckP99Ms)
            .Should().Be((954, 40.0, (double?)null, (double?)null, (int?)null, (double?)null));
    }

    private static ArmResult Arm(string name, ArmServer server, int? capacity, params WriteStepResult[] steps)
    {
        var settings = new WriteScenarioSettings("W1", 300, 8, 5, [.. steps.Select(s => s.Rate)], 1, 10, 2, 2);
        var atSlo = new Capacity(capacity, capacity is null ? "no step passed" : "broken above");
        var w1 = new WriteScenarioResult("W1", name, settings, null, steps, [], atSlo, atSlo, null, []);
        return new ArmResult(name, server, 2, null, [w1], null, null);
    }

    private static WriteStepResult Step(int rate, double micros, double ackP99, bool valid = true)
    {
        var none = new LatencyHistogram().Summarize();
        var sample = CpuSample.Take([]);
        return new WriteStepResult(
            1, rate, 1, 10, rate * 10, rate * 10, 0, 0, new Dictionary<string, int>(), 0, 0, 0, none, none with { P99 = ackP99 }, none, none,
            0, 0, 0, 0, 0, 0, 0, 0, CpuUsage.Between(sample, sample, 10) with { ReplicaMicrosPerEvent = micros }, 0, Valid: valid, [], Clean: true,
            MeetsSlo: true, MeetsRelaxedSlo: true, new GcHoldResult(true, true, 0));
    }
}
