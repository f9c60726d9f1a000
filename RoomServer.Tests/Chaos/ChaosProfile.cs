using System.Globalization;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// How hard the battery pushes. <c>fast</c> (the default, CI) keeps the whole battery within a few
/// minutes on a 2-core machine; <c>long</c> (<c>ROOMSHARE_CHAOS=long</c>, by hand) runs more rooms,
/// clients, operations, frames and longer faults. Every number here bounds a loop. The seed of each
/// test's random choices is printed; <c>ROOMSHARE_CHAOS_SEED</c> replays one.
/// </summary>
public sealed record ChaosProfile(
    string Name,
    int Rooms,
    int ClientsPerRoom,
    TimeSpan Pacing,
    int AcknowledgedPerPhase,
    TimeSpan FaultLength,
    int FuzzFrames,
    int StormRounds,
    int FloodConnections,
    int FloodMessages)
{
    /// <summary>The hard cap on one client's writes in one run, whatever the phases ask for.</summary>
    public const int MaxOpsPerClient = 20_000;

    /// <summary>The hard cap on one run's length, whatever the phases ask for.</summary>
    public static readonly TimeSpan MaxRunLength = TimeSpan.FromMinutes(10);

    public static readonly ChaosProfile Fast = new(
        "fast", Rooms: 2, ClientsPerRoom: 3, Pacing: TimeSpan.FromMilliseconds(40), AcknowledgedPerPhase: 40,
        FaultLength: TimeSpan.FromSeconds(3), FuzzFrames: 10_000, StormRounds: 1, FloodConnections: 150, FloodMessages: 300);

    public static readonly ChaosProfile Extended = new(
        "long", Rooms: 4, ClientsPerRoom: 6, Pacing: TimeSpan.FromMilliseconds(25), AcknowledgedPerPhase: 1_500,
        FaultLength: TimeSpan.FromSeconds(10), FuzzFrames: 100_000, StormRounds: 5, FloodConnections: 1_000, FloodMessages: 3_000);

    /// <summary><c>ROOMSHARE_CHAOS</c>: "long", or anything else / unset for "fast".</summary>
    public static ChaosProfile Current =>
        string.Equals(Environment.GetEnvironmentVariable("ROOMSHARE_CHAOS"), "long", StringComparison.OrdinalIgnoreCase) ? Extended : Fast;

    /// <summary><c>ROOMSHARE_CHAOS_SEED</c> when set, else the test's own fixed seed.</summary>
    public static int Seed(int defaultSeed) =>
        int.TryParse(Environment.GetEnvironmentVariable("ROOMSHARE_CHAOS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : defaultSeed;
}
