using System.Diagnostics;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The chaos battery's process faults, under a workload of random writes in several rooms: a replica
/// killed (-9) mid-broadcast, frozen (SIGSTOP, then SIGCONT), drained (SIGTERM), and nginx reloaded
/// with live WebSockets. Each ends with the history checker. A stopped replica is started again, so
/// the next fault finds the whole cluster.
/// </summary>
[Trait("Suite", "Chaos")]
[Collection(ChaosCollection.Name)]
public sealed class ProcessFaultChaosTests(ChaosFixture cluster, ITestOutputHelper output) : IClassFixture<ChaosFixture>
{
    [Fact]
    public async Task AReplicaKilledMidBroadcastLosesNoAcknowledgedWriteAndItsClientsResumeElsewhere()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1101);
        await run.PhaseAsync();
        var victim = cluster.Replica("r1");
        var onVictim = run.Clients.Where(c => c.Follower.Replica == victim.ReplicaId).ToList();
        var clock = Stopwatch.StartNew();
        victim.Kill();
        await run.PhaseAsync();
        output.WriteLine($"kill -9 {victim.ReplicaId}: {run.Profile.AcknowledgedPerPhase} more writes acknowledged by the survivors within {clock.ElapsedMilliseconds} ms");
        onVictim.Should().NotBeEmpty().And.OnlyContain(c => c.Reconnects > 0 && c.Follower.Replica != victim.ReplicaId, "the victim's clients resumed on a survivor");

        await victim.StartAgainAsync();
        await run.PhaseAsync();
        await run.FinishAsync();
    }

    [Fact]
    public async Task AReplicaFrozenBySigstopAndThawedLosesNothingAndEveryClientConverges()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1102);
        await run.PhaseAsync();
        var victim = cluster.Replica("r2");

        // Frozen longer than a client waits for an answer, so its clients' writes time out.
        var frozenFor = run.Profile.FaultLength + ChaosClient.CallTimeout;
        PosixSignal.Stop(victim.Pid);
        try
        {
            await Task.Delay(frozenFor); // the fault's length: nothing to await while a process is frozen
            await run.MoreAcknowledgedAsync(10, TimeSpan.FromSeconds(30));
        }
        finally
        {
            PosixSignal.Continue(victim.Pid);
        }

        await run.PhaseAsync();
        var frozen = run.History.Ops.Where(o => o.Replica == victim.ReplicaId && o.Outcome.Kind == OpOutcomeKind.Unknown).ToList();
        output.WriteLine($"SIGSTOP {victim.ReplicaId} for {frozenFor.TotalSeconds:0} s: {frozen.Count} writes through it ended unknown");
        frozen.Should().NotBeEmpty("writes through the frozen replica time out: their fate is unknown to the client");
        await run.FinishAsync();
    }

    [Fact]
    public async Task ASigtermDrainMovesItsClientsWithoutLosingAnAcknowledgedWrite()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1103);
        await run.PhaseAsync();
        var victim = cluster.Replica("r1");
        var onVictim = run.Clients.Where(c => c.Follower.Replica == victim.ReplicaId).ToList();
        var clock = Stopwatch.StartNew();
        PosixSignal.Terminate(victim.Pid);
        (await victim.WaitForExitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 5))).Should().BeTrue(
            $"a drained replica exits within RoomServer__DrainSeconds ({ClusterFixture.DrainSeconds} s)");
        output.WriteLine($"SIGTERM {victim.ReplicaId}: exited after {clock.ElapsedMilliseconds} ms");
        await run.PhaseAsync();
        onVictim.Should().OnlyContain(c => c.Reconnects > 0 && c.Follower.Replica != victim.ReplicaId, "the drained replica's clients resumed elsewhere");
        await victim.StartAgainAsync();
        await run.PhaseAsync();
        await run.FinishAsync();
    }

    [Fact]
    public async Task AnNginxReloadWithLiveWebSocketsDropsThemAndEveryClientResumesWithoutLoss()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1104, viaNginx: true);
        await run.PhaseAsync();

        // `nginx -s reload` is SIGHUP to the master: a new worker takes new connections, the old one
        // keeps its WebSockets until worker_shutdown_timeout (2 s) and then closes them.
        var clock = Stopwatch.StartNew();
        await cluster.Nginx.ReloadAsync(cluster.Replicas.Select(r => r.BaseUrl).ToList());
        output.WriteLine($"nginx reloaded; the old worker exited after {clock.ElapsedMilliseconds} ms");
        await run.PhaseAsync();
        await run.FinishAsync();
        output.WriteLine($"reconnects after the reload: {run.Clients.Sum(c => c.Reconnects)} of {run.Clients.Count} clients");
        run.Clients.Should().OnlyContain(c => c.Reconnects > 0, "the old worker closed every WebSocket it carried, and each client came back");
    }
}
