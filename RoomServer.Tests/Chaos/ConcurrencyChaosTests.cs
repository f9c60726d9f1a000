using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The chaos battery's races, under a workload of random writes: many devices of one member
/// incrementing one item at once on every replica, the same opId arriving at three replicas at once,
/// and a reconnect storm of every client. Each ends with the checker.
/// </summary>
[Trait("Suite", "Chaos")]
[Collection(ChaosCollection.Name)]
public sealed class ConcurrencyChaosTests(ChaosFixture cluster, ITestOutputHelper output) : IClassFixture<ChaosFixture>
{
    [Fact]
    public async Task ConcurrentIncrementsOfOneItemFromEveryReplicaAreEachAppliedExactlyOnce()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1401);
        var room = run.Rooms[0];
        var devices = new List<ChaosClient>();
        for (var d = 0; d < run.Profile.ClientsPerRoom * 2; d++)
        {
            var device = await ChaosClient.JoinAsync(cluster, run.History, room, "shared", cluster.Replicas[d % cluster.Replicas.Count].BaseUrl, run.Seed + 100 + d, device: $"d{d.ToString(CultureInfo.InvariantCulture)}");
            run.Adopt(device);
            devices.Add(device);
        }

        var perDevice = Math.Max(20, run.Profile.AcknowledgedPerPhase / 2);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(devices.Select(device => Task.Run(async () =>
        {
            for (var i = 0; i < perDevice; i++)
            {
                await device.WriteAsync("AdjustChoice", "pasta", +1, device.NextOpId());
            }
        })));
        var increments = run.History.Ops.Where(o => o.MemberId == "shared").ToList();
        var evidence = await run.FinishAsync();

        var final = evidence.Rooms.Single(r => r.RoomId == room.Id);
        var applied = increments.Count(o => final.Ops.ContainsKey(o.OpKey));
        var acknowledged = increments.Count(o => o.Outcome.Kind == OpOutcomeKind.Ok);
        output.WriteLine($"{devices.Count} devices × {perDevice} increments of shared:pasta in {clock.ElapsedMilliseconds} ms: {acknowledged} acknowledged, {applied} applied, final quantity {final.Choices.GetValueOrDefault("shared:pasta")}");
        final.Choices.GetValueOrDefault("shared:pasta").Should().Be(applied, "each applied increment adds exactly one: none lost, none doubled");
        applied.Should().BeGreaterThanOrEqualTo(acknowledged);
        increments.Where(o => o.Outcome.Kind == OpOutcomeKind.Ok).Select(o => o.Outcome.Quantity).Should().OnlyHaveUniqueItems("every increment saw its own quantity");
    }

    [Fact]
    public async Task OneOpIdArrivingAtThreeReplicasAtOnceIsAppliedOnceAndAcknowledgedAlikeEverywhere()
    {
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1402);
        var room = run.Rooms[1];
        var devices = new List<ChaosClient>();
        foreach (var replica in cluster.Replicas)
        {
            var device = await ChaosClient.JoinAsync(cluster, run.History, room, "dup", replica.BaseUrl, run.Seed + 200 + devices.Count, device: replica.ReplicaId);
            run.Adopt(device);
            devices.Add(device);
        }

        var rounds = Math.Max(30, run.Profile.AcknowledgedPerPhase);
        for (var i = 0; i < rounds; i++)
        {
            // The same opId from every device at once; the arguments differ, and only the first to reach Redis counts.
            var opId = $"dup-{i.ToString(CultureInfo.InvariantCulture)}";
            await Task.WhenAll(devices.Select((device, d) => device.WriteAsync("SetChoice", "cola", 1 + ((i + d) % 9), opId)));
        }

        var duplicates = run.History.Ops.Where(o => o.MemberId == "dup").ToList();
        var evidence = await run.FinishAsync();
        var final = evidence.Rooms.Single(r => r.RoomId == room.Id);
        var events = final.Events.Count(e => e.MemberId == "dup" && e.OpId is not null && e.OpId.StartsWith("dup-", StringComparison.Ordinal));
        output.WriteLine($"{rounds} opIds × {devices.Count} replicas: {duplicates.Count(o => o.Outcome.Kind == OpOutcomeKind.Ok)} acks, {events} events (the checker found each opId applied at most once and its acks alike)");
        duplicates.Should().OnlyContain(o => o.Outcome.Kind == OpOutcomeKind.Ok, "every copy is acknowledged: the first applied, the others answered from the remembered result");
        events.Should().BeLessThanOrEqualTo(rounds);
    }

    [Fact]
    public async Task AReconnectStormOfEveryClientLosesNothingAndEveryoneConverges()
    {
        var profile = ChaosProfile.Current with { ClientsPerRoom = ChaosProfile.Current.ClientsPerRoom * 3 };
        await using var run = await ChaosRun.StartAsync(cluster, output, defaultSeed: 1403, viaNginx: true, profile: profile);
        await run.PhaseAsync();
        for (var round = 1; round <= profile.StormRounds; round++)
        {
            // Every client drops its connection at the same moment; each reconnects through nginx and resumes.
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(run.Clients.Select(c => c.Follower.Client.Connection.StopAsync()));
            await run.PhaseAsync();
            output.WriteLine($"storm {round}: {run.Clients.Count} clients dropped at once; {run.Clients.Count(c => c.Reconnects >= round)} back, writes flowing again after {clock.ElapsedMilliseconds} ms");
        }

        await run.FinishAsync();
        run.Clients.Should().OnlyContain(c => c.Reconnects >= profile.StormRounds, "every client came back after every storm");
    }
}
