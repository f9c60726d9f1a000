using RoomShare.LoadTest.Cluster;
using RoomShare.LoadTest.Console;
using RoomShare.LoadTest.Measure;
using RoomShare.LoadTest.Population;
using RoomShare.LoadTest.Profiles;

namespace RoomShare.LoadTest.Scenarios;

/// <summary>
/// What every scenario on one arm shares: the running cluster, its measured processes, the API and hub endpoints;
/// and where each write step's ack timeline goes (<c>--latencies</c>; null: not written); <see cref="AofRewrites"/> reads
/// whether Redis rewrote its AOF in a step (null: no Redis, or it could not be reached).
/// </summary>
public sealed record ArmContext(
    ArmShape Arm,
    ClusterInfo Cluster,
    IReadOnlyList<MeasuredProcess> Processes,
    RoomApi Api,
    HubEndpoint Hub,
    ProfileSettings Profile,
    ThreadPoolProbe Probe,
    ProgressLine Progress,
    string? AckTimelineDirectory = null,
    RedisAofRewrites? AofRewrites = null)
{
    /// <summary>
    /// Reads Redis's AOF rewrites for one end of a step's window, on the pool: the read is a Redis round trip, and the
    /// step's schedule must not wait for it. Null without Redis.
    /// </summary>
    public Task<AofRewriteSnapshot?> ReadAofRewrites() =>
        AofRewrites is { } rewrites ? Task.Run(rewrites.ReadAsync) : Task.FromResult<AofRewriteSnapshot?>(null);
}
