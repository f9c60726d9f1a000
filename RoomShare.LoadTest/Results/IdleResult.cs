using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Results;

/// <summary>
/// W0: resident memory of each process before connecting, after the first half of the rooms joined and settled (no
/// reading with a single room), and after every member joined and settled. KB per connection per server process = its
/// whole RSS growth ÷ the members that joined on it: the figure, which includes what the process pays once, on
/// its first connections. The second half's = its growth over the second half ÷ the second half's members on it, which
/// leaves most of that out. CPU over the idle window. ClosedConnections counts server closes from the first join on.
/// </summary>
public sealed record IdleScenarioResult(
    string Arm,
    IdleScenarioSettings Settings,
    ConnectReport Connect,
    IReadOnlyDictionary<string, int> JoinedByServer,
    IReadOnlyDictionary<string, long?> RssBeforeBytes,
    IReadOnlyDictionary<string, long?> RssAfterFirstHalfBytes,
    IReadOnlyDictionary<string, long?> RssAfterBytes,
    IReadOnlyDictionary<string, double?> KbPerConnectionByReplica,
    IReadOnlyDictionary<string, int> SecondHalfJoinedByServer,
    IReadOnlyDictionary<string, double?> SecondHalfKbPerConnectionByReplica,
    CpuUsage IdleCpu,
    long ClosedConnections,
    string? Error);
