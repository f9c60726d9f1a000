using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// W0: resident memory of each process before connecting, after the first half of the rooms joined and settled, and
/// after every member joined and settled. KB per connection per replica = its whole RSS growth ÷ the members that
/// joined on it (the figure, which includes what the process pays once, on its first connections); the second
/// half's = its growth over the second half ÷ the second half's members on it (what one more connection costs). CPU
/// over the idle window.
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
    string? Error,
    IReadOnlyDictionary<string, long?> RssAfterFirstHalfBytes,
    IReadOnlyDictionary<string, int> SecondHalfJoinedByReplica,
    IReadOnlyDictionary<string, double?> SecondHalfKbPerConnectionByReplica);
