using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The chaos battery's Redis faults, under a workload of random writes in several rooms: Redis
/// stopped and restarted (AOF), paused (<c>CLIENT PAUSE</c>), its pub/sub clients killed
/// (<c>CLIENT KILL TYPE pubsub</c>), and one replica (r3) cut off from Redis alone through the
/// <see cref="Infrastructure.TcpFaultProxy"/> — its link dropped, or stalled. Each ends with the checker.
/// </summary>
[Trait("Suite", "Chaos")]
[Collection(ChaosCollection.Name)]
public sealed class RedisFaultChaosTests(ChaosFixture cluster, ITestOutputHelper output) : IClassFixture<ChaosFixture>
{
    [Fact]
    public async Task RedisStoppedAndRestartedLosesNoAcknowledgedWriteAndEveryClientConverges()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1201);
        await run.PhaseAsync();
        var before = run.History.Count;
        await cluster.Redis.StopAsync();
        await Task.Delay(run.Profile.FaultLength); // the outage's length: nothing to await while Redis is away
        await cluster.Redis.StartAgainAsync();
        var during = run.History.Ops.Skip(before).ToList();
        output.WriteLine($"Redis stopped for {run.Profile.FaultLength.TotalSeconds:0} s: {during.Count} writes ended meanwhile: {Outcomes(during)}");
        during.Should().Contain(o => o.Outcome.Kind == OpOutcomeKind.Unknown, "writes that cannot reach Redis answer unavailable");
        await run.PhaseAsync();
        await run.FinishAsync();
    }

    [Fact]
    public async Task RedisPausedByClientPauseLetsNoWriteApplyTwiceAndEveryClientConverges()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1202);
        await run.PhaseAsync();
        var before = run.History.Count;
        var pause = run.Profile.FaultLength;
        (await cluster.Redis.ExecuteAsync("CLIENT", "PAUSE", ((int)pause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), "ALL")).Should().Be("OK");
        await Task.Delay(pause); // the pause's length: Redis ends it by itself
        await run.PhaseAsync();
        var during = run.History.Ops.Skip(before).ToList();
        var evidence = await run.FinishAsync();

        // The store deadline (1 s) passes while a paused script waits; Redis runs it when the pause ends.
        var unknown = during.Where(o => o.Outcome.Kind == OpOutcomeKind.Unknown).ToList();
        var appliedLate = unknown.Count(o => evidence.Rooms.Single(r => r.RoomId == o.RoomId).Ops.ContainsKey(o.OpKey));
        output.WriteLine($"CLIENT PAUSE {pause.TotalMilliseconds:0} ms: {Outcomes(during)}; {appliedLate} of {unknown.Count} unknown writes were applied when the pause ended");
        unknown.Should().NotBeEmpty("writes during the pause outlive the store deadline");
    }

    [Fact]
    public async Task KilledPubSubConnectionsAreRestoredAndClientsCatchUpOnWhatTheyMissed()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1203);
        await run.PhaseAsync();
        var killed = 0L;
        for (var round = 0; round < run.Profile.StormRounds + 1; round++)
        {
            killed += long.Parse((await cluster.Redis.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub"))!, CultureInfo.InvariantCulture);
            await run.PhaseAsync();
        }

        output.WriteLine($"CLIENT KILL TYPE pubsub killed {killed} subscriber connections in {run.Profile.StormRounds + 1} rounds");
        killed.Should().BeGreaterThanOrEqualTo(cluster.Replicas.Count, "every replica holds at least one subscriber connection");
        await run.FinishAsync();
    }

    [Fact]
    public async Task AReplicaWhoseRedisLinkIsDroppedRecoversAndLosesNothing()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1204);
        await run.PhaseAsync();
        cluster.RedisProxy.Accepted.Should().BeGreaterThan(0, $"{ChaosFixture.CutOffReplicaId} reaches Redis through the proxy");
        var cutOff = cluster.Replica(ChaosFixture.CutOffReplicaId);
        var before = run.History.Count;
        cluster.RedisProxy.Drop();
        var ready = await ReadyDuringAsync(cutOff, run.Profile.FaultLength);
        cluster.RedisProxy.Heal();
        var through = run.History.Ops.Skip(before).Where(o => o.Replica == cutOff.ReplicaId).ToList();
        output.WriteLine($"{cutOff.ReplicaId}'s Redis link dropped for {run.Profile.FaultLength.TotalSeconds:0} s: its /readyz answered [{string.Join(", ", ready)}]; writes through it: {Outcomes(through)}");
        ready.Should().Contain(503, "a replica that cannot reach Redis is not ready");
        await run.PhaseAsync();
        await run.FinishAsync();
    }

    [Fact]
    public async Task AReplicaWhoseRedisLinkStallsRecoversAndLosesNothing()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1205);
        await run.PhaseAsync();
        var cutOff = cluster.Replica(ChaosFixture.CutOffReplicaId);
        var before = run.History.Count;
        cluster.RedisProxy.Stall();
        var ready = await ReadyDuringAsync(cutOff, run.Profile.FaultLength + TimeSpan.FromSeconds(2));
        cluster.RedisProxy.Heal();
        var through = run.History.Ops.Skip(before).Where(o => o.Replica == cutOff.ReplicaId).ToList();
        output.WriteLine($"{cutOff.ReplicaId}'s Redis link stalled for {(run.Profile.FaultLength + TimeSpan.FromSeconds(2)).TotalSeconds:0} s: its /readyz answered [{string.Join(", ", ready)}]; writes through it: {Outcomes(through)}");
        ready.Should().Contain(503, "a replica that no longer hears its own heartbeat is deaf: not ready (degraded mode)");
        through.Should().Contain(o => o.Outcome.Kind == OpOutcomeKind.Unknown, "writes through the stalled replica do not complete");
        await run.PhaseAsync();
        await run.FinishAsync();
    }

    /// <summary>The distinct /readyz statuses of <paramref name="replica"/>, polled every 200 ms for <paramref name="length"/>.</summary>
    private async Task<IReadOnlyList<int>> ReadyDuringAsync(Infrastructure.RoomServerProcess replica, TimeSpan length)
    {
        var statuses = new List<int>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < length)
        {
            var status = await cluster.ReadyStatusAsync(replica);
            if (!statuses.Contains(status))
            {
                statuses.Add(status);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        return statuses;
    }

    private static string Outcomes(IEnumerable<OpRecord> ops) =>
        string.Join(", ", ops.GroupBy(o => o.Outcome.Describe(withDetail: false)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"));
}
