using System.Diagnostics;
using System.Globalization;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// SIGTERM drains a replica (DESIGN.md §9): /readyz fails at once, its members are closed in batches
/// and resume on the others through nginx without gap or duplicate, writes elsewhere never stop, and
/// the process exits within RoomServer__DrainSeconds.
/// </summary>
[Trait("Suite", "Cluster")]
[Collection(DestructiveClusterCollection.Name)]
public sealed class ReplicaDrainTests(ClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan FollowTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task SigtermDrainsAReplicaWhoseMembersResumeElsewhereAndItExitsWithinTheDrainTime()
    {
        await using var stage = await ReplicaLossStage.StartAsync(cluster, "d");
        var (room, victim, onVictim, writer) = (stage.Room, stage.Victim, stage.OnVictim, stage.Writer);
        var victimId = victim.ReplicaId;

        var sinceTerm = Stopwatch.StartNew();
        var closedAt = onVictim.Select(m => m.Client.Closed.ContinueWith(_ => sinceTerm.Elapsed, TaskScheduler.Default)).ToList();
        await using var stallWatch = StallWatch.Start();
        PosixSignal.Terminate(victim.Pid);

        // /readyz fails first (while the replica still answers).
        while (await cluster.ReadyStatusAsync(victim) != 503)
        {
            sinceTerm.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a draining replica stops being ready at once (well inside its 4 s drain; 2 s as its siblings allow a loaded box)");
            await Task.Delay(10);
        }

        var readyFailedAfter = sinceTerm.Elapsed;

        // Its members are closed, then come back through nginx and resume where they were.
        await Task.WhenAll(onVictim.Select(m => m.Client.Closed.WaitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 2))));
        var stalled = stallWatch.LongestStall;
        var resumes = await Task.WhenAll(onVictim.Select(async m =>
        {
            m.DrainReceived();
            var since = m.Version;
            var result = await m.ReconnectAsync(cluster.BaseUrl);
            return (Member: m, Since: since, Result: result);
        }));
        foreach (var (m, since, result) in resumes)
        {
            result.Replica.Should().NotBe(victimId, "nginx sends the reconnect to another replica");
            result.Missed.Should().NotBeNull($"{m}: history reaches back to v{since}");
            result.Missed!.Select(e => e.Version).Should().Equal(ClusterConsistencyTests.Range(since + 1, result.Position.Version));
        }

        (await victim.WaitForExitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 3))).Should().BeTrue(
            $"the replica exits within its drain time\n{cluster.Logs()}");
        var exitedAfter = sinceTerm.Elapsed;
        victim.Output.Should().Contain("Draining:").And.Contain("Drained:");
        var closes = (await Task.WhenAll(closedAt)).Order().ToList();
        var batches = DrainBatches.OfLastDrain(victim.Output);
        output.WriteLine($"SIGTERM to {victimId} with {onVictim.Count} members: /readyz 503 after {readyFailedAfter.TotalMilliseconds:0} ms, " +
            $"batches at [{string.Join(", ", batches.Select(b => b.At.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}] ms by the drain's clock, " +
            $"members' closes seen at [{string.Join(", ", closes.Select(c => c.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}] ms " +
            $"(this process stalled up to {stalled.TotalMilliseconds:0} ms), process exited by {exitedAfter.TotalMilliseconds:0} ms");

        // DrainSeconds 4: a batch every 4 × 0.8 / 2 / 10 = 160 ms; all at once would be within a few ms. The drain's own
        // account always; the clients' view when this process was not held up long enough to see two batches at once.
        // Ten batches at most, as even as the count allows: they span a pause of 160 ms between each two, 100 allowed for each.
        var perBatch = (int)Math.Ceiling(onVictim.Count / 10.0);
        var batchCount = (int)Math.Ceiling(onVictim.Count / (double)perBatch);
        batches.Should().HaveCount(batchCount, $"{onVictim.Count} members the victim held, {perBatch} a batch");
        batches.Sum(b => b.Count).Should().Be(onVictim.Count, "every member the victim held is in a batch");
        (batches[^1].At - batches[0].At).Should().BeGreaterThan(TimeSpan.FromMilliseconds(100 * (batchCount - 1)), "the drain spaces its batches");
        if (stalled < TimeSpan.FromMilliseconds(100))
        {
            (closes[^1] - closes[0]).Should().BeGreaterThan(TimeSpan.FromMilliseconds(100), "members are closed in staggered batches, not all at once");
        }

        await stage.FinishWritingAsync(cluster, output);

        var finalVersion = await cluster.RedisVersionAsync(room);
        var followers = stage.Members.Append(writer).ToList();
        await Task.WhenAll(followers.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
        var expected = await cluster.RedisChoicesAsync(room);
        foreach (var m in followers)
        {
            m.Gaps.Should().BeEmpty($"{m} never saw a gap");
            m.AssertEveryConnectionReceivedInOrderOnce();
            m.Choices.Should().BeEquivalentTo(expected, $"{m}'s state equals Redis");
        }
    }
}
