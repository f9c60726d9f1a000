using System.Diagnostics;
using System.Globalization;
using RoomShare.RoomServer.Tests.Contract;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// Test classes that break their cluster run one after another (each still gets its own cluster), and with no other
/// collection beside them: they time what a replica does while it fails or drains (a long-polling member's polls
/// delivering until its batch, a drain's exit within its time), and a Chromium test running beside one on this 2-core
/// box starved the draining replica enough for two members' polls to lag half a second (seen locally); about 50 s at the
/// end of the run.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DestructiveClusterCollection
{
    public const string Name = "Destructive cluster tests";
}

/// <summary>
/// kill -9 of a replica while changes flow (DESIGN.md §7): its members reconnect through nginx to a
/// survivor and resume from their position with no gap and no duplicate; the one that does not come
/// back is swept offline by the survivors.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class ReplicaFailoverTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task MembersOfAKilledReplicaResumeOnASurvivorWithoutGapOrDuplicateAndAMemberThatDoesNotReturnGoesOffline()
    {
        await using var stage = await ReplicaLossStage.StartAsync(cluster, "m");
        var (room, members, victim, onVictim, writer, loop) = (stage.Room, stage.Members, stage.Victim, stage.OnVictim, stage.Writer, stage.Loop);
        var victimId = victim.ReplicaId;
        var onSurvivors = members.Except(onVictim).ToList();
        output.WriteLine($"members: {string.Join(", ", members)}; killing {victimId} (pid {victim.Pid})");

        var sinceKill = Stopwatch.StartNew();
        victim.Kill();
        var abandoned = onVictim[0];
        var offlineSeen = Task.Run(async () =>
        {
            var change = await writer.Client.NextPresenceAsync(p => p.MemberId == abandoned.MemberId && !p.Online, TimeSpan.FromSeconds(15));
            return (Change: change, After: sinceKill.Elapsed);
        });
        foreach (var m in onVictim)
        {
            await m.Client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        }

        output.WriteLine($"the victim's {onVictim.Count} connections closed {sinceKill.ElapsedMilliseconds} ms after the kill");

        // All but one come back through nginx, with the same token, and resume from where they were.
        var returning = onVictim.Skip(1).ToList();
        var resumes = await Task.WhenAll(returning.Select(async m =>
        {
            m.DrainReceived();
            var since = m.Version;
            var result = await m.ReconnectAsync(cluster.BaseUrl);
            await m.Client.SetChoiceAsync(room, "cola", 5, $"{m.MemberId}-after-resume");
            return (Member: m, Since: since, Result: result);
        }));
        output.WriteLine($"resumed {resumes.Length} members {sinceKill.ElapsedMilliseconds} ms after the kill: " +
            string.Join(", ", resumes.Select(r => $"{r.Member.MemberId} since v{r.Since} on {r.Result.Replica}: {r.Result.Missed?.Count.ToString(CultureInfo.InvariantCulture) ?? "snapshot"} missed")));
        foreach (var (m, since, result) in resumes)
        {
            m.Gaps.Should().BeEmpty($"{m} had no gap before the kill");
            result.Replica.Should().NotBe(victimId, "nginx routes a reconnect to a survivor");
            result.Missed.Should().NotBeNull($"{m}: the history (500) still reaches back to v{since}, so Join(since) returns the missed events");
            result.Missed!.Select(e => e.Version).Should().Equal(ClusterConsistencyTests.Range(since + 1, result.Position.Version), $"{m}: the missed events fill the gap exactly");
        }

        // Twenty more changes after everyone is back, then the writer stops.
        await stage.FinishWritingAsync(cluster, output);
        output.WriteLine($"the writer made {loop.Outcomes.Count} changes");

        var finalVersion = await cluster.RedisVersionAsync(room);
        var followers = onSurvivors.Concat(returning).Append(writer).ToList();
        await Task.WhenAll(followers.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
        var expected = await cluster.RedisChoicesAsync(room);
        foreach (var m in followers)
        {
            m.Gaps.Should().BeEmpty($"{m} never saw a gap");
            m.Applied.Select(e => e.Version).Should().Equal(
                ClusterConsistencyTests.Range(m.FirstJoinVersion + 1, finalVersion), $"{m} applied every event since its join exactly once, in order");
            m.AssertEveryConnectionReceivedInOrderOnce();
            m.Choices.Should().BeEquivalentTo(expected, $"{m}'s state equals Redis");
        }

        foreach (var outcome in loop.Outcomes)
        {
            (await cluster.RedisOpResultAsync(room, "writer", outcome.OpId)).Should().Be(
                $"{outcome.Ack!.Version}:{outcome.Ack.Quantity}", $"acknowledged write {outcome.OpId} is in Redis");
        }

        // Presence: the abandoned member is swept offline by the survivors (lease 3 s + grace 3 s + ticks).
        // The bound guards against "never", not "slow": generous for a loaded 2-core machine.
        var (offline, after) = await offlineSeen;
        output.WriteLine($"{abandoned.MemberId} went offline {after.TotalMilliseconds:0} ms after the kill");
        after.Should().BeLessThan(TimeSpan.FromSeconds(15), "a dead replica's members go offline within lease + grace + a tick or two");
        offline.DisplayName.Should().Be(abandoned.MemberId.ToUpperInvariant());
        (await cluster.RedisPresenceFieldsAsync(room)).Should().NotContain(f => f.StartsWith($"c:{victimId}:", StringComparison.Ordinal), "the dead replica's connections were swept");
        foreach (var survivor in cluster.Replicas.Where(r => r.ReplicaId != victimId))
        {
            var snapshot = await cluster.SnapshotAsync(room, survivor);
            snapshot.Version.Should().Be(finalVersion, "presence is not versioned");
            snapshot.Members.Single(x => x.MemberId == abandoned.MemberId).Online.Should().BeFalse($"{survivor.ReplicaId}: the abandoned member is offline");
            snapshot.Members.Where(x => x.MemberId != abandoned.MemberId).Should().OnlyContain(x => x.Online, $"{survivor.ReplicaId}: every connected member is online");
        }

        writer.Client.Received("Presence")
            .Where(p => returning.Any(m => m.MemberId == p.GetProperty("memberId").GetString()) && !p.GetProperty("online").GetBoolean())
            .Should().BeEmpty("a member that reconnects within the lease never flickers offline");
    }
}
