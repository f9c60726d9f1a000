using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// W0: resident memory of each process before connecting and after every member joined and settled;
/// KB per connection per replica = its RSS growth ÷ the members that joined on it; CPU over the idle window.
/// </summary>
public sealed record IdleScenarioResult(
    string Arm,
    IdleScenarioSettings Settings,
    ConnectReport Connect,
    IReadOnlyDictionary<string, long?> RssBeforeBytes,
    IReadOnlyDictionary<string, long?> RssAfterBytes,
    IReadOnlyDictionary<string, double?> KbPerConnectionByReplica,
    CpuUsage IdleCpu,
    long ClosedConnections,
    string? Error);
