using System.Diagnostics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// Redis stops for a few seconds under write load (DESIGN.md §2): writes fail with <c>unavailable</c>
/// and are never acknowledged, replicas report not ready, and once Redis is back (AOF) — without
/// restarting a replica — nothing acknowledged is lost, retries are idempotent, the backplane delivers
/// again on every replica, and every member converges.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class RedisOutageTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Longer than the presence lease, so every lease runs out while Redis is down.</summary>
    private static readonly TimeSpan OutageLength = ClusterFixture.PresenceLease + TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ARedisOutageRejectsWritesAsUnavailableLosesNothingAcknowledgedAndEveryReplicaRecovers()
    {
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        try
        {
            // Two members on every replica, connected straight to it.
            foreach (var replica in cluster.Replicas)
            {
                members.Add(await cluster.JoinAsync(room, "a-" + replica.ReplicaId, replica.BaseUrl));
                members.Add(await cluster.JoinAsync(room, "b-" + replica.ReplicaId, replica.BaseUrl));
            }

            // Every member writes in a loop; Redis stops once every loop has been acknowledged twice.
            var loops = members.Select(m => new WriterLoop(m.Client, room, m.MemberId, "pasta", maxWrites: 300, pacing: TimeSpan.FromMilliseconds(20), flowingAfter: 2)).ToList();
            var outage = Stopwatch.StartNew();
            foreach (var loop in loops)
            {
                loop.StopWhen(outcomes => outcomes.Count(o => o.AfterOutage && o.Ack is null) >= 2 && outage.Elapsed >= OutageLength);
            }

            var running = loops.Select(l => l.RunAsync()).ToList();
            await Task.WhenAll(loops.Select(l => l.Flowing)).WaitAsync(TimeSpan.FromSeconds(10));

            await cluster.Redis.StopAsync();
            outage.Restart();
            loops.ForEach(l => l.MarkOutage());
            await cluster.WaitForReadyStatusAsync(503, TimeSpan.FromSeconds(5));
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));
            var outcomes = loops.SelectMany(l => l.Outcomes).ToList();
            var duringOutage = outcomes.Where(o => o.AfterOutage).ToList();
            output.WriteLine($"{outcomes.Count(o => o.Ack is not null)} writes acknowledged, {outcomes.Count(o => o.Ack is null)} failed " +
                $"({duringOutage.Count} started after Redis stopped: codes {string.Join(", ", duringOutage.GroupBy(o => o.ErrorCode).Select(g => $"{g.Key ?? "ack"}={g.Count()}"))}); outage {outage.ElapsedMilliseconds} ms");
            duringOutage.Should().OnlyContain(o => o.ErrorCode == RoomErrorCodes.Unavailable, "a write that cannot reach Redis fails with unavailable and is never acknowledged");
            (await cluster.ReadyStatusAsync(cluster.Replicas[0])).Should().Be(503, "/readyz reports Redis unreachable");

            // Redis comes back on the same port with its AOF; no replica is restarted.
            var restoredLogsBefore = cluster.Replicas.ToDictionary(r => r.ReplicaId, r => CountResubscribed(r.Output), StringComparer.Ordinal);
            await cluster.Redis.StartAgainAsync();
            await cluster.WaitForReadyStatusAsync(200, TimeSpan.FromSeconds(15));
            await WaitForResubscriptionAsync(restoredLogsBefore);
            var sinceRestart = Stopwatch.StartNew();

            // Nothing acknowledged was lost: every ack's opId result and event are in Redis.
            var history = await cluster.RedisEventsAsync(room);
            foreach (var acked in outcomes.Where(o => o.Ack is not null))
            {
                (await cluster.RedisOpResultAsync(room, acked.MemberId, acked.OpId)).Should().Be($"{acked.Ack!.Version}:{acked.Ack.Quantity}", $"acknowledged {acked.OpId} survived");
                history.Single(e => e.Version == acked.Ack.Version).Should().BeEquivalentTo(
                    new { acked.MemberId, acked.MenuId, Quantity = (int?)acked.Ack.Quantity, acked.OpId }, $"the event of {acked.OpId} is in the history");
            }

            // Members converge: those behind hear a Position and catch up with Join(since).
            var recovered = await cluster.RedisVersionAsync(room);
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(recovered, FollowTimeout, catchUp: true)));
            output.WriteLine($"converged at v{recovered}; catch-up joins: {string.Join(", ", members.Select(m => $"{m.MemberId}={m.CatchUpJoins}"))}");

            // Retrying each failed write with its opId: one that was applied after all returns its
            // original result and changes nothing; one that was not is applied now, once.
            // Retried: every write in flight when Redis stopped (the ones that may have been applied) and
            // the first two each member sent into the outage.
            var retriedApplied = 0;
            var toRetry = outcomes.Where(o => o.Ack is null && !o.AfterOutage)
                .Concat(outcomes.Where(o => o.AfterOutage).GroupBy(o => o.MemberId).SelectMany(g => g.Take(2))).ToList();
            foreach (var failed in toRetry)
            {
                var member = members.Single(m => m.MemberId == failed.MemberId);
                var before = await cluster.RedisOpResultAsync(room, failed.MemberId, failed.OpId);
                var versionBefore = await cluster.RedisVersionAsync(room);
                var ack = await member.Client.SetChoiceAsync(room, failed.MenuId, failed.Quantity, failed.OpId);
                (await cluster.RedisOpResultAsync(room, failed.MemberId, failed.OpId)).Should().Be($"{ack.Version}:{ack.Quantity}");
                if (before is not null)
                {
                    retriedApplied++;
                    $"{ack.Version}:{ack.Quantity}".Should().Be(before, $"{failed.OpId} had been applied: the retry returns the original result");
                    (await cluster.RedisVersionAsync(room)).Should().Be(versionBefore, "and changes nothing");
                }
            }

            output.WriteLine($"{toRetry.Count} failed writes retried; {retriedApplied} of them had been applied during the outage");

            // An acknowledged write retried from another replica, with other arguments: the original ack, nothing changes.
            var original = outcomes.First(o => o.Ack is not null && o.MemberId == "a-r1");
            var versionBeforeRetry = await cluster.RedisVersionAsync(room);
            await using (var otherDevice = await cluster.JoinAsync(room, "a-r1", cluster.Replica("r2").BaseUrl))
            {
                var retried = await otherDevice.Client.SetChoiceAsync(room, "pasta", 42, original.OpId);
                retried.Should().Be(original.Ack, "a retried opId returns the original result, whichever replica and whatever the arguments");
            }

            (await cluster.RedisVersionAsync(room)).Should().Be(versionBeforeRetry, "the retry changed nothing");

            // New writes on every replica reach members on every replica, live (strict: no catch-up needed).
            foreach (var m in members)
            {
                await m.Client.SetChoiceAsync(room, "cola", 7, $"{m.MemberId}-after-outage");
            }

            var finalVersion = await cluster.RedisVersionAsync(room);
            var joinsBefore = members.ToDictionary(m => m.MemberId, m => m.CatchUpJoins, StringComparer.Ordinal);
            await Task.WhenAll(members.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
            var expected = await cluster.RedisChoicesAsync(room);
            foreach (var m in members)
            {
                m.CatchUpJoins.Should().Be(joinsBefore[m.MemberId], $"{m}: after the re-subscription every event arrives live");
                m.Applied.Select(e => e.Version).Should().Equal(
                    ClusterConsistencyTests.Range(m.FirstJoinVersion + 1, finalVersion), $"{m} applied every event exactly once, in order");
                m.Choices.Should().BeEquivalentTo(expected, $"{m}'s state equals Redis");
                expected.Should().ContainKey($"{m.MemberId}:cola").WhoseValue.Should().Be(7);
            }

            // Presence: every member is still connected, so after lease + grace + a tick, all are online.
            // Regression: the outage outlives the lease; the first replica to sweep after the restore
            // deleted the other replicas' expired connection entries, and sweep.lua renews a live
            // connection only if its entry still exists — so their members were announced offline while connected.
            var settled = ClusterFixture.PresenceLease + TimeSpan.FromSeconds(ClusterFixture.PresenceGraceSeconds + 1);
            if (sinceRestart.Elapsed < settled)
            {
                await Task.Delay(settled - sinceRestart.Elapsed);
            }

            var offline = members.SelectMany(m => m.Client.Received("Presence"))
                .Where(p => !p.GetProperty("online").GetBoolean()).Select(p => p.GetProperty("memberId").GetString()).Distinct().ToList();
            foreach (var replica in cluster.Replicas)
            {
                var snapshot = await cluster.SnapshotAsync(room, replica);
                snapshot.Version.Should().Be(finalVersion);
                snapshot.Choices.ToDictionary(c => $"{c.MemberId}:{c.MenuId}", c => c.Quantity).Should().BeEquivalentTo(expected);
                snapshot.Members.Where(x => !x.Online).Select(x => x.MemberId).Should().BeEmpty(
                    $"{replica.ReplicaId}: every member still has a live connection (offline announcements seen: [{string.Join(", ", offline)}])");
            }
        }
        finally
        {
            await Task.WhenAll(members.Select(m => m.DisposeAsync().AsTask()));
        }
    }

    private static int CountResubscribed(string log) =>
        log.Split('\n').Count(line => line.Contains("re-subscribed and verified", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Each replica logs "re-subscribed and verified N of M room channels" once it has re-created its subscriptions after
    /// the restore: the moment from which live delivery is promised again. Polled (bounded) from its output.
    /// </summary>
    private Task WaitForResubscriptionAsync(Dictionary<string, int> before) =>
        Poll.UntilAsync(() => cluster.Replicas.All(r => CountResubscribed(r.Output) > before[r.ReplicaId]), TimeSpan.FromSeconds(15),
            () => $"every replica logging its re-subscription after Redis came back: " +
                $"{string.Join(", ", cluster.Replicas.Select(r => $"{r.ReplicaId}={CountResubscribed(r.Output) - before[r.ReplicaId]}"))}\n{cluster.Logs(6000)}");
}
