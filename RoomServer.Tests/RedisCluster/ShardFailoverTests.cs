using System.Diagnostics;
using System.Globalization;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Cluster;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.RedisCluster;

/// <summary>
/// A Redis master dies (kill -9) while members of rooms on every shard write through all three
/// replicas. Its replica is promoted (CLUSTER FAILOVER TAKEOVER bounds the wait) and the dead node
/// comes back as the new master's replica. No acknowledged write is lost (each was confirmed on a
/// replica with WAIT); a write answered <c>unavailable</c> is applied at most once (retried with its
/// opId); the other shards never stop; and the failed shard's rooms get live events again on every
/// replica — its sharded channels re-subscribed and verified on the new master, without a restart.
/// </summary>
[Trait("Suite", "RedisCluster")]
public sealed class ShardFailoverTests(RedisClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RedisClusterFixture>
{
    private const int MaxWritesPerWriter = 800;
    private static readonly TimeSpan Pacing = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan StageTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A room nobody followed when its shard failed over (its members all away: no replica subscribed, so it
    /// was in no re-check pass) still gets its new epoch before a member's resume is answered: the member
    /// may hold events the dead master never replicated, whose versions the promoted replica reuses.
    /// </summary>
    [Fact]
    public async Task ARoomNobodyFollowedWhenItsShardFailedOverGetsItsNewEpochBeforeAResumeIsAnswered()
    {
        var shard = (await cluster.RoomOnEveryMasterAsync())[^1];
        var victim = cluster.Redis.NodeAt(shard.MasterPort);
        var heir = await cluster.Redis.ReplicaOfAsync(victim.Port);
        string token;
        RoomPosition seen;
        await using (var ann = await cluster.JoinAsync(shard.Room, "ann", cluster.Replicas[0]))
        {
            token = ann.Token;
            var ack = await ann.Client.SetChoiceAsync(shard.Room, "pizza", 2);
            await ann.FollowUntilAsync(ack.Version, StageTimeout);
            seen = new RoomPosition(ann.Epoch, ann.Version);
        }

        var channel = $"rs:{{{shard.Room.Id}}}:events";
        await Poll.UntilAsync(
            async () => await RespClient.ExecuteAsync(victim.Port, ["PUBSUB", "SHARDNUMSUB", channel], StageTimeout) is object?[] { Length: 2 } reply && reply[1] is 0L,
            StageTimeout,
            "no replica follows the room any more");

        victim.Kill();
        await RedisClusterProcess.TakeOverAsync(heir, StageTimeout);
        await victim.StartAgainAsync();
        await cluster.Redis.WaitUntilHealthyAsync(StageTimeout);

        await using var back = await HubTestClient.ConnectAsync(cluster.Replicas[1].BaseUrl, token);
        var resumed = await Poll.ForAsync(
            async () =>
            {
                try
                {
                    return await back.InvokeAsync<JoinResult>("Join", shard.Room.Id, seen);
                }
                catch (Microsoft.AspNetCore.SignalR.HubException ex) when (ex.Message.Contains(RoomErrorCodes.Unavailable, StringComparison.Ordinal))
                {
                    return null; // the replica may still be finding the new master
                }
            },
            result => result is not null,
            StageTimeout,
            _ => "the resume is answered");

        resumed!.Position.Epoch.Should().NotBe(seen.Epoch, "the shard failed over after ann's last event: a new epoch");
        resumed.Snapshot.Should().NotBeNull("a resume from another epoch is answered with a snapshot");
        (await cluster.RedisEpochAsync(shard.Room)).Should().Be(resumed.Position.Epoch);
    }

    [Fact]
    public async Task AKilledMasterLosesNoAcknowledgedWriteOtherShardsNeverStopAndItsRoomsGoLiveAgainOnTheNewMaster()
    {
        var rooms = await cluster.RoomOnEveryMasterAsync();
        var failing = rooms[0];
        var healthy = rooms.Skip(1).ToList();
        var victim = cluster.Redis.NodeAt(failing.MasterPort);
        var heir = await cluster.Redis.ReplicaOfAsync(victim.Port);
        var followers = new List<RoomFollower>();
        var writers = new List<(WriterLoop Loop, RoomFollower Member, ShardRoom Shard)>();
        var done = false;
        try
        {
            foreach (var (shard, r) in rooms.Select((s, i) => (s, i.ToString(CultureInfo.InvariantCulture))))
            {
                foreach (var replica in cluster.Replicas)
                {
                    followers.Add(await cluster.JoinAsync(shard.Room, $"f{r}{replica.ReplicaId}", replica));
                    var writer = await cluster.JoinAsync(shard.Room, $"w{r}{replica.ReplicaId}", replica);
                    // A healthy shard's write that a loaded box (CI's) pushed past its 1 s deadline is retried once with its
                    // opId, as a client does; the failed shard's writes are not (their failures are what is checked).
                    var loop = new WriterLoop(writer.Client, shard.Room, writer.MemberId, "pizza", MaxWritesPerWriter, Pacing, retryUnavailableOnce: shard != failing);
                    loop.StopWhen(_ => Volatile.Read(ref done));
                    writers.Add((loop, writer, shard));
                }
            }

            var running = writers.Select(w => w.Loop.RunAsync()).ToList();
            await Task.WhenAll(writers.Select(w => w.Loop.Flowing)).WaitAsync(StageTimeout);

            // The crash.
            var clock = Stopwatch.StartNew();
            victim.Kill();
            writers.ForEach(w => w.Loop.MarkOutage());
            output.WriteLine($"killed master {victim} of room {failing.Room.Id}; its replica {heir} takes over");

            // Before the promotion, readiness says which master is gone.
            var notReady = await WaitForReadyAsync(cluster.Replicas[0], r => r.Status == 503 && r.Detail?.Contains(victim.Endpoint, StringComparison.Ordinal) == true);
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: r1 /readyz 503: {notReady.Detail}");

            await RedisClusterProcess.TakeOverAsync(heir, StageTimeout);
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: {heir} is master");
            await victim.StartAgainAsync();
            await cluster.Redis.WaitUntilHealthyAsync(StageTimeout);
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: {victim} is back as a replica; cluster healthy");

            // Writes on the failed shard resume (its new master has a replica to confirm them again).
            var failingWriters = writers.Where(w => w.Shard == failing).ToList();
            await Poll.UntilAsync(() => failingWriters.All(w => w.Loop.Outcomes.Count(o => o.AfterOutage && o.Ack is not null) >= 5), StageTimeout,
                () => "writers of the failed shard acknowledged again: " + string.Join(", ", failingWriters.Select(w => w.Loop.Outcomes.Count(o => o.AfterOutage && o.Ack is not null))));
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: the failed shard's writers are acknowledged again");
            Volatile.Write(ref done, true);
            await Task.WhenAll(running).WaitAsync(StageTimeout);
            foreach (var replica in cluster.Replicas)
            {
                (await cluster.ReadyAsync(replica)).Status.Should().Be(200, $"{replica.ReplicaId} is ready again after the failover");
            }

            // The other shards never stopped: every write there, during the failover too, was acknowledged — by its
            // call or, for at most 1% of them, by its one immediate retry with its opId (a call a loaded box pushed
            // past the 1 s deadline). A shard stopped for 2 s or more fails a call and its retry both.
            var healthyOutcomes = writers.Where(w => w.Shard != failing).SelectMany(w => w.Loop.Outcomes).ToList();
            var healthyRetried = healthyOutcomes.Where(o => o.FirstAnswer is not null).ToList();
            if (healthyRetried.Count > 0)
            {
                output.WriteLine($"shards that did not fail: {healthyRetried.Count} of {healthyOutcomes.Count} writes answered {RoomErrorCodes.Unavailable} and were retried with their opIds: " +
                    string.Join(", ", healthyRetried.Select(o => $"{o.OpId}{(o.AfterOutage ? " (after the kill)" : "")}")));
            }

            foreach (var (loop, member, shard) in writers.Where(w => w.Shard != failing))
            {
                loop.Outcomes.Where(o => o.Ack is null).Should().BeEmpty(
                    $"{member.MemberId} writes to room {shard.Room.Id} on a shard that did not fail: each write is acknowledged, at worst on its one retry (writes not confirmed:\n{cluster.LogLines("not confirmed")})");
                loop.Outcomes.Count(o => o.AfterOutage && o.Ack is not null).Should().BeGreaterThan(0, $"{member.MemberId} keeps being acknowledged after the kill");
            }

            healthyRetried.Count.Should().BeLessThanOrEqualTo(Math.Max(1, healthyOutcomes.Count / 100),
                $"the shards that did not fail answered their writes in time, but for a rare loaded-box straggler (writes not confirmed:\n{cluster.LogLines("not confirmed")})");

            var failed = failingWriters.SelectMany(w => w.Loop.Outcomes).Where(o => o.Ack is null).ToList();
            output.WriteLine($"failed shard: {failingWriters.Sum(w => w.Loop.Acknowledged)} acknowledged, {failed.Count} not: " +
                string.Join(", ", failed.GroupBy(o => o.ErrorCode).Select(g => $"{g.Key}={g.Count()}")));
            failed.Should().NotBeEmpty("writes to the dead master's rooms fail until its replica takes over");
            failed.Select(o => o.ErrorCode).Should().OnlyContain(c => c == RoomErrorCodes.Unavailable || c == "client-timeout");

            // A write answered unavailable may have been applied: retried with its opId, it is applied at most once.
            var retries = new List<(WriteOutcome Outcome, ChoiceAck Ack)>();
            foreach (var outcome in failed)
            {
                var writer = failingWriters.Single(w => w.Member.MemberId == outcome.MemberId).Member;
                retries.Add((outcome, await writer.Client.SetChoiceAsync(failing.Room, outcome.MenuId, outcome.Quantity, outcome.OpId)));
            }

            foreach (var shard in rooms)
            {
                var history = await cluster.RedisEventsAsync(shard.Room);
                var final = await cluster.RedisVersionAsync(shard.Room);
                history.Select(e => e.Version).Should().Equal(Enumerable.Range(1, (int)final).Select(v => (long)v), $"room {shard.Room.Id}'s history is whole");

                // Every acknowledged write is there, at the version its ack named.
                foreach (var (loop, member, _) in writers.Where(w => w.Shard == shard))
                {
                    foreach (var outcome in loop.Outcomes.Where(o => o.Ack is not null))
                    {
                        history[(int)outcome.Ack!.Version - 1].Should().BeEquivalentTo(
                            new { Type = RoomEventTypes.Choice, outcome.MemberId, outcome.OpId, Quantity = (int?)outcome.Quantity },
                            $"acknowledged write {outcome.OpId} survives the failover");
                    }
                }

                // A healthy shard's write answered unavailable and retried at once with its opId is there exactly once.
                foreach (var outcome in writers.Where(w => w.Shard == shard).SelectMany(w => w.Loop.Outcomes).Where(o => o.FirstAnswer is not null))
                {
                    history.Where(e => e.MemberId == outcome.MemberId && e.OpId == outcome.OpId).Should().ContainSingle(
                        $"{outcome.OpId}, answered {outcome.FirstAnswer} and retried with its opId, is applied exactly once");
                }

                foreach (var (outcome, ack) in retries.Where(r => shard == failing))
                {
                    var applied = history.Where(e => e.MemberId == outcome.MemberId && e.OpId == outcome.OpId).ToList();
                    applied.Should().HaveCountLessThanOrEqualTo(1, $"{outcome.OpId}, answered {outcome.ErrorCode} and retried, is applied at most once");
                    ack.Quantity.Should().Be(outcome.Quantity);
                    if (applied.Count == 1)
                    {
                        ack.Version.Should().Be(applied[0].Version, $"the retry of {outcome.OpId} answers the version it was applied at");
                    }
                    else
                    {
                        // Not applied by the failed call, and its retry changed nothing: the member's choice
                        // already had that quantity (the writer cycles through nine), so no event (§2).
                        var before = history.Take((int)ack.Version).Last(e => e.MemberId == outcome.MemberId && e.Type == RoomEventTypes.Choice && e.MenuId == outcome.MenuId);
                        before.Quantity.Should().Be(outcome.Quantity, $"the retry of {outcome.OpId} sent no event only because it was a no-op");
                    }
                }

                // Every member, on every replica, converges to Redis; the healthy shards' members never needed to catch up.
                var choices = await ChoicesAsync(shard.Room);
                var epoch = await cluster.RedisEpochAsync(shard.Room);
                foreach (var member in followers.Where(f => f.Room == shard.Room))
                {
                    if (shard == failing)
                    {
                        // The dead master may have published events it never replicated, so the failed
                        // shard's room has a new epoch: Position tells each member, which resyncs.
                        epoch.Should().NotBe(shard.Room.Epoch, "a room whose shard failed over gets a new epoch");
                        await member.Client.WaitForAsync("Position", p => p.GetProperty("epoch").GetString() == epoch, StageTimeout);
                        if (member.Epoch != epoch)
                        {
                            await member.JoinAsync(resume: true);
                        }
                    }

                    await member.FollowUntilAsync(final, StageTimeout, catchUp: shard == failing);
                    member.Epoch.Should().Be(epoch);
                    member.Choices.Should().BeEquivalentTo(choices, $"{member} converges to the cluster's state");
                    if (shard != failing)
                    {
                        epoch.Should().Be(shard.Room.Epoch, "a shard that did not fail keeps its rooms' epochs");
                        member.AssertEveryConnectionReceivedInOrderOnce();
                        member.Gaps.Should().BeEmpty($"{member} is on a shard that did not fail: its live events never stopped");
                    }
                    else
                    {
                        // Within each epoch, live events arrive in version order, each once — but for the tail
                        // of the room's first epoch: the dead master may have published versions it never
                        // replicated, and the promoted replica reuses them (failover.lua says so) until the
                        // room's epoch is renewed. Up to the last version acknowledged before the kill (WAIT
                        // confirmed it on the heir) even that epoch is strict.
                        var confirmed = failingWriters.SelectMany(w => w.Loop.Outcomes)
                            .Where(o => !o.AfterOutage && o.Ack is not null).Select(o => o.Ack!.Version).DefaultIfEmpty(0).Max();
                        foreach (var run in member.Client.Received("RoomEvent").GroupBy(e => e.GetProperty("epoch").GetString()))
                        {
                            var versions = run.Select(e => e.GetProperty("version").GetInt64());
                            if (run.Key == shard.Room.Epoch)
                            {
                                versions = versions.Where(v => v <= confirmed);
                            }

                            versions.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems(
                                $"{member} receives the events of epoch {run.Key} in order, once (the first epoch up to v{confirmed})");
                        }
                    }
                }
            }

            // The backplane after the failover: the failed shard's room gets live events again on every
            // replica, with no restart — and its members were sent Position to catch up meanwhile.
            var failingFollowers = followers.Where(f => f.Room == failing.Room).ToList();
            failingFollowers.Should().OnlyContain(f => f.Client.Received("Position").Count > 0);
            var live = await LiveAgainAsync(failingWriters[0].Member, failingFollowers);
            output.WriteLine($"{clock.ElapsedMilliseconds} ms: live events on the failed shard's room again at v{live}");
        }
        finally
        {
            Volatile.Write(ref done, true);
            await Task.WhenAll(followers.Concat(writers.Select(w => w.Member)).Select(m => m.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// Refreshes the room (a barrier event) until every follower receives one live — on its connection,
    /// not through a catch-up Join — within a bounded number of rounds. Returns the live version.
    /// </summary>
    private async Task<long> LiveAgainAsync(RoomFollower writer, IReadOnlyList<RoomFollower> followers)
    {
        var deadline = DateTime.UtcNow + StageTimeout;
        for (var round = 0; ; round++)
        {
            var barrier = await writer.Client.InvokeAsync<VersionAck>("Refresh", writer.Room.Id);
            try
            {
                await Task.WhenAll(followers.Select(f => f.FollowUntilAsync(barrier.Version, TimeSpan.FromSeconds(3), catchUp: true)));
            }
            catch (TimeoutException)
            {
                // Not yet: try again with a new barrier.
            }

            if (followers.All(f => f.Client.Received("RoomEvent").Any(e => e.GetProperty("version").GetInt64() == barrier.Version)))
            {
                return barrier.Version;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"after {round + 1} barriers, not every member of room {writer.Room.Id} received a live event: " +
                    string.Join(", ", followers.Select(f => $"{f}: received {f.Client.Received("RoomEvent").Count} live")) + cluster.Logs());
            }
        }
    }

    private async Task<IReadOnlyDictionary<string, int>> ChoicesAsync(TestRoom room)
    {
        var key = $"rs:{{{room.Id}}}:choices";
        var master = await cluster.Redis.MasterOfAsync(key);
        var flat = (object?[])(await RespClient.ExecuteAsync(master.Port, ["HGETALL", key], TimeSpan.FromSeconds(5)))!;
        var choices = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            choices[(string)flat[i]!] = int.Parse((string)flat[i + 1]!, CultureInfo.InvariantCulture);
        }

        return choices;
    }

    private Task<(int Status, string? Detail)> WaitForReadyAsync(RoomServerProcess replica, Func<(int Status, string? Detail), bool> until) =>
        Poll.ForAsync(() => cluster.ReadyAsync(replica), until, StageTimeout,
            ready => $"{replica.ReplicaId} /readyz never matched; last: {ready.Status} {ready.Detail}");
}
