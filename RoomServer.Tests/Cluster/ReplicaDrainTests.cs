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
        const int MemberCount = 9;
        var room = await cluster.CreateRoomAsync();
        var members = new List<RoomFollower>();
        RoomFollower? writer = null;
        try
        {
            for (var i = 0; i < MemberCount; i++)
            {
                members.Add(await cluster.JoinAsync(room, "d" + i.ToString(CultureInfo.InvariantCulture)));
            }

            var victimId = members.GroupBy(m => m.Replica).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            var victim = cluster.Replica(victimId);
            var onVictim = members.Where(m => m.Replica == victimId).ToList();
            onVictim.Should().HaveCountGreaterThanOrEqualTo(2);
            writer = await cluster.JoinAsync(room, "writer", cluster.Replicas.First(r => r.ReplicaId != victimId).BaseUrl);
            var loop = new WriterLoop(writer.Client, room, "writer", "pizza", maxWrites: 400, pacing: TimeSpan.FromMilliseconds(10), flowingAfter: 20);
            var running = loop.RunAsync();
            await loop.Flowing.WaitAsync(TimeSpan.FromSeconds(10));

            var sinceTerm = Stopwatch.StartNew();
            var closedAt = onVictim.Select(m => m.Client.Closed.ContinueWith(_ => sinceTerm.Elapsed, TaskScheduler.Default)).ToList();
            PosixSignal.Terminate(victim.Pid);

            // /readyz fails first (while the replica still answers).
            while (await cluster.ReadyStatusAsync(victim) != 503)
            {
                sinceTerm.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), "a draining replica stops being ready at once");
                await Task.Delay(10);
            }

            var readyFailedAfter = sinceTerm.Elapsed;

            // Its members are closed, then come back through nginx and resume where they were.
            await Task.WhenAll(onVictim.Select(m => m.Client.Closed.WaitAsync(TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 2))));
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

            (await WaitForExitAsync(victim, TimeSpan.FromSeconds(ClusterFixture.DrainSeconds + 3))).Should().BeTrue(
                $"the replica exits within its drain time\n{cluster.Logs()}");
            var exitedAfter = sinceTerm.Elapsed;
            victim.Output.Should().Contain("Draining:").And.Contain("Drained:");
            var closes = (await Task.WhenAll(closedAt)).Order().ToList();
            output.WriteLine($"SIGTERM to {victimId} with {onVictim.Count} members: /readyz 503 after {readyFailedAfter.TotalMilliseconds:0} ms, " +
                $"members closed at [{string.Join(", ", closes.Select(c => c.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))}] ms, process exited by {exitedAfter.TotalMilliseconds:0} ms");
            (closes[^1] - closes[0]).Should().BePositive("members are closed in staggered batches, not all at once");

            var target = loop.Acknowledged + 20;
            loop.StopWhen(outcomes => outcomes.Count(o => o.Ack is not null) >= target);
            await running.WaitAsync(TimeSpan.FromSeconds(30));
            loop.Outcomes.Should().OnlyContain(o => o.Ack != null, "writes on the other replicas never stopped");

            var finalVersion = await cluster.RedisVersionAsync(room);
            var followers = members.Append(writer).ToList();
            await Task.WhenAll(followers.Select(m => m.FollowUntilAsync(finalVersion, FollowTimeout)));
            var expected = await cluster.RedisChoicesAsync(room);
            foreach (var m in followers)
            {
                m.Gaps.Should().BeEmpty($"{m} never saw a gap");
                m.AssertEveryConnectionReceivedInOrderOnce();
                m.Choices.Should().BeEquivalentTo(expected, $"{m}'s state equals Redis");
            }
        }
        finally
        {
            foreach (var m in members)
            {
                await m.DisposeAsync();
            }

            if (writer is not null)
            {
                await writer.DisposeAsync();
            }
        }
    }

    private static async Task<bool> WaitForExitAsync(RoomServerProcess replica, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!replica.HasExited && clock.Elapsed < timeout)
        {
            await Task.Delay(50);
        }

        return replica.HasExited;
    }
}
