using RoomShare.LoadTest.Cluster;

namespace RoomShare.LoadTest.Profiles;

/// <summary>
/// The two built-in profiles. <c>full</c> is issue #9's benchmark (by hand, ~30–40 min on 2 cores);
/// <c>quick</c> is the same shape at toy sizes, for CI (well under 3 min), where only correctness
/// (zero loss, zero out-of-order) is asserted.
/// </summary>
public static class Profiles
{
    public static IReadOnlyList<string> Names { get; } = ["quick", "full"];

    public static ProfileSettings Get(string name) => name switch
    {
        "quick" => Quick,
        "full" => Full,
        _ => throw new ArgumentException($"unknown profile '{name}': {string.Join(", ", Names)}", nameof(name)),
    };

    private static readonly SloSettings IssueSlo = new(FanoutP99Ms: 50, RelaxedFanoutP99Ms: 100);

    private static readonly GeneratorLimits DefaultLimits = new(MaxSendLagP99Ms: 10, MaxPoolDelayP99Ms: 20, MaxCores: 0.9);

    private static ProfileSettings Full => new(
        "full",
        W0: new IdleScenarioSettings(Rooms: 500, Members: 10, SettleSeconds: 10, IdleSeconds: 20),
        W1: new WriteScenarioSettings("W1", Rooms: 300, Members: 8, MenuItems: 4,
            Rates: Ladder(250, 1.25, 9000), WarmupSeconds: 3, StepSeconds: 10, DrainSeconds: 10, SettleSeconds: 5, RefineSteps: 2),
        // W2's ladder runs past 200/s: on 2026-11-30 both RoomShare and the floor passed 182/s, the
        // old ladder's last step, so it ended without a capacity. The ladder stops at the first
        // broken or generator-starved step, so the extra steps cost time only when they are needed.
        W2: new WriteScenarioSettings("W2", Rooms: 10, Members: 250, MenuItems: 4,
            Rates: Ladder(10, 1.25, 1000), WarmupSeconds: 3, StepSeconds: 10, DrainSeconds: 10, SettleSeconds: 5, RefineSteps: 2),
        // Every Join sends Presence to the room's members, so a join costs O(room size) deliveries:
        // 625 rooms keep the largest step (5 000) at tables of 8 like W1's, so W3 measures joins, not
        // the fan-out of ever bigger rooms (100 rooms made it 50 a room).
        // 4 000/s for the floor, which passed 3 000/s on 2026-11-30 (RoomShare breaks near 2 000/s).
        W3: new JoinRampSettings(Rooms: 625, Rates: [250, 500, 1000, 1500, 2000, 2500, 3000, 4000], StepSeconds: 2, MaxConnectionsPerStep: 5000, P99LimitMs: 1000, RefineSteps: 2),
        Arms:
        [
            // The floor's W1 and W3 give RoomShare's capacities as fractions of what the platform does.
            new ArmPlan(ArmShape.FloorArm, ["W1", "W3"]),
            // Its members' tokens name their rooms, so nginx puts a room's members on one replica (DESIGN
            // §7); the room hint arm (roomshare-2-roomhint) routes the same way now, so it is left out.
            new ArmPlan(ArmShape.RoomShare(2), ["W0", "W1", "W2", "W3"]),
            new ArmPlan(ArmShape.RoomShare(1), ["W1"]),
            new ArmPlan(ArmShape.RoomShare(3), ["W1"]),
            new ArmPlan(ArmShape.EmbeddedMode, ["W1"]),
        ],
        IssueSlo,
        DefaultLimits,
        ConnectConcurrency: 32,
        QuietSeconds: 8,
        TimeLimitMinutes: 60);

    private static ProfileSettings Quick => new(
        "quick",
        W0: new IdleScenarioSettings(Rooms: 20, Members: 5, SettleSeconds: 1, IdleSeconds: 2),
        W1: new WriteScenarioSettings("W1", Rooms: 30, Members: 4, MenuItems: 4,
            Rates: [20, 40], WarmupSeconds: 0.5, StepSeconds: 2, DrainSeconds: 5, SettleSeconds: 1),
        W2: new WriteScenarioSettings("W2", Rooms: 2, Members: 30, MenuItems: 4,
            Rates: [5, 10], WarmupSeconds: 0.5, StepSeconds: 2, DrainSeconds: 5, SettleSeconds: 1),
        W3: new JoinRampSettings(Rooms: 10, Rates: [20, 40], StepSeconds: 2, MaxConnectionsPerStep: 100, P99LimitMs: 1000, MinWarmUpPasses: 1, MaxWarmUpPasses: 1),
        Arms:
        [
            new ArmPlan(ArmShape.FloorArm, ["W1", "W3"]),
            new ArmPlan(ArmShape.RoomShare(2), ["W0", "W1", "W2", "W3"]),
        ],
        IssueSlo,
        DefaultLimits,
        ConnectConcurrency: 16,
        QuietSeconds: 1,
        TimeLimitMinutes: 3);

    /// <summary>start, start×factor, … up to max, rounded to whole changes per second.</summary>
    public static IReadOnlyList<int> Ladder(int start, double factor, int max)
    {
        var rates = new List<int>();
        // Bounded: factor > 1 and max is finite.
        for (double rate = start; rate <= max && rates.Count < 100; rate *= factor)
        {
            rates.Add((int)Math.Round(rate));
        }

        return rates;
    }
}
